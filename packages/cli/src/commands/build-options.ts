import type { OptionSpec } from "../argv.ts";

/**
 * `strata build` options spelled as `docker buildx build` spells them (kept apart from the
 * engine's own options so that each can grow without the other's diff).
 */
export const BUILDX_OPTIONS: readonly OptionSpec[] = [
  { name: "file", short: "f", type: "string", placeholder: "FILE", description: "the .image.ts module or Dockerfile (any name); the positional argument is then the context directory" },
  { name: "iidfile", type: "string", placeholder: "FILE", description: "write the image ID (the config digest, as `docker images` shows it) to FILE" },
  { name: "metadata-file", type: "string", placeholder: "FILE", description: "write buildx's build result metadata (containerimage.digest, …config.digest, …descriptor, image.name) as JSON" },
  { name: "label", type: "list", placeholder: "K=V", description: "set a label in the image config" },
  { name: "pull", type: "boolean", description: "always ask the registry for the current digest of every base image tag (over strata.lock)" },
  { name: "quiet", short: "q", type: "boolean", description: "print only the image ID (no progress, no summary)" },
  { name: "build-context", type: "list", placeholder: "NAME=VALUE", description: "a named context: a DIR, docker-image://REF or oci-layout://PATH (`COPY --from=NAME`, `FROM NAME`, `context(\".\", { name: NAME })`)" },
  { name: "no-cache-filter", type: "list", placeholder: "STAGE", description: "run the own steps of these targets/stages again (comma-separated)" },
];

/**
 * Flags of `docker build` / `docker buildx build` that Strata does not have: naming one is a
 * usage error that says so (never "unknown option", never silently ignored).
 */
export const DOCKER_ONLY_FLAGS: Readonly<Record<string, string>> = Object.fromEntries(
  [
    "add-host", "annotation", "attest", "call", "cgroup-parent", "check", "compress",
    "cpu-period", "cpu-quota", "cpu-shares", "cpuset-cpus", "cpuset-mems", "detach", "disable-content-trust",
    "force-rm", "isolation", "memory", "memory-swap", "network", "print", "provenance", "rm", "sbom",
    "security-opt", "shm-size", "squash", "ulimit", "userns",
  ].map((f) => [f, `--${f} is a docker build flag that Strata does not support`]),
);
