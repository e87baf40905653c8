import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { project } from "../registry/helpers.ts";

/**
 * A two-stage Dockerfile over the local busybox: the first stage writes random bytes (so a
 * rerun is visible in the image digest) and fills a cache mount; the final image copies one
 * file from it and writes its own random file.
 */
export const DOCKERFILE = `FROM busybox AS deps
RUN --mount=type=cache,id=strata-cache-test-dl,target=/dl head -c 16 /dev/urandom > /dl/downloaded && cp /dl/downloaded /deps && echo build-only > /build-only
FROM busybox
COPY msg.txt /msg.txt
COPY --from=deps /deps /deps
RUN head -c 16 /dev/urandom > /r
`;

/** The project for DOCKERFILE: busybox's OCI layout beside it, overridden in for `FROM busybox`. */
export async function cacheProject(dockerfile = DOCKERFILE): Promise<string> {
  return project({ Dockerfile: dockerfile, "msg.txt": "shared cache\n" });
}

/** `build` arguments for the project (the base image comes from the layout, never a registry). */
export function buildArgs(...extra: string[]): string[] {
  return ["build", "Dockerfile", "--image", "busybox=oci-layout:./busybox", "--progress", "plain", ...extra];
}

/** "N steps run, M cached" from the CLI's summary line. */
export function counts(stderr: string): { run: number; cached: number } {
  const m = /(\d+) steps run, (\d+) cached/.exec(stderr);
  if (!m) throw new Error(`no summary in:\n${stderr}`);
  return { run: Number(m[1]), cached: Number(m[2]) };
}

/** The path of a blob's data in the docker-registry's storage directory. */
export function registryBlobPath(registryDir: string, digest: string): string {
  const hex = digest.slice("sha256:".length);
  const path = join(registryDir, "data", "docker", "registry", "v2", "blobs", "sha256", hex.slice(0, 2), hex, "data");
  if (!existsSync(path)) throw new Error(`blob ${digest} is not in the registry's storage (${readdirSync(registryDir).join(", ")})`);
  return path;
}

/** Overwrites a blob in the registry's storage with same-length garbage (the registry serves it as is). */
export function corrupt(path: string, size: number): void {
  writeFileSync(path, Buffer.alloc(size, 0x5a));
}
