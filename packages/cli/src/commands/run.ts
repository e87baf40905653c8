import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { CommandSpec, ParsedArgs } from "../argv.ts";
import type { CliContext } from "../context.ts";
import { strataHome } from "../load/strata-home.ts";
import { isDockerfileName } from "../load/load-target.ts";

export const spec: CommandSpec = {
  name: "run",
  summary: "Run an image as a container in Strata's sandbox (no Docker needed).",
  usage: "strata run IMAGE|FILE [--target NAME] [-e K=V...] [--user U] [--workdir DIR] [-- COMMAND ARGS...]",
  description:
    "IMAGE is a name given to `strata build -t` (or a manifest digest); a FILE (.image.ts or Dockerfile)\n" +
    "is built first. The image's layers are mounted read-only with a throwaway writable layer on top;\n" +
    "its ENTRYPOINT, CMD (replaced by COMMAND), Env, User and WorkingDir apply. The exit status is the\n" +
    "container's; Ctrl-C stops it. Needs root (namespaces and overlayfs), like the RUN steps of a build.",
  positionals: { min: 1, max: 1 },
  options: [
    { name: "target", type: "string", placeholder: "NAME", description: "with a FILE: the target to build and run" },
    { name: "env", short: "e", type: "list", placeholder: "K=V", description: "set an environment variable (K alone: from this environment)" },
    { name: "user", short: "u", type: "string", placeholder: "USER[:GROUP]", description: "run as this user" },
    { name: "workdir", short: "w", type: "string", placeholder: "DIR", description: "working directory inside the container" },
    { name: "entrypoint", type: "string", placeholder: "PROGRAM", description: "replace the image's ENTRYPOINT" },
    { name: "network", type: "string", values: ["default", "none", "host"], description: "network of the container (default: the host's)" },
    { name: "executor", type: "string", values: ["auto", "runc", "sandbox"], description: "how to isolate the container" },
  ],
  examples: ["strata run hello:latest", "strata run examples/hello/hello.image.ts", "strata run app:dev -- sh -c 'id; ls /'"],
};

export async function run(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const target = args.positionals[0]!;
  const { Store, findImage, runImage } = await import("@strata/engine");
  const store = new Store(strataHome(ctx.env));
  let image;
  const abs = resolve(ctx.cwd, target);
  if (existsSync(abs) && (isDockerfileName(target) || /\.(m|c)?[jt]sx?$/.test(target))) {
    const { runCli } = await import("../main.ts");
    // The build prints the image ID (the config digest); the store finds images by manifest
    // digest, which the build's metadata file names.
    const meta = join(mkdtempSync(join(tmpdir(), "strata-run-")), "metadata.json");
    let code: number;
    try {
      code = await runCli(["build", target, "--progress", "quiet", "--metadata-file", meta, ...(args.options.target ? ["--target", args.options.target as string] : [])], { ...ctx, stdout: () => {} });
      if (code === 0) image = await findImage(store, (JSON.parse(readFileSync(meta, "utf8")) as Record<string, string>)["containerimage.digest"]!);
    } finally {
      rmSync(dirname(meta), { recursive: true, force: true });
    }
    if (code !== 0) return code;
  } else {
    image = await findImage(store, await normalizeName(target));
  }
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    const r = await runImage(store, image!, {
      ...(args.rest.length ? { command: args.rest } : {}),
      ...(args.options.entrypoint ? { entrypoint: [args.options.entrypoint as string] } : {}),
      env: (args.options.env as string[] | undefined) ?? [],
      ...(args.options.user ? { user: args.options.user as string } : {}),
      ...(args.options.workdir ? { workdir: args.options.workdir as string } : {}),
      ...(args.options.network ? { network: args.options.network as "default" } : {}),
      executor: ((args.options.executor as string | undefined) ?? "auto") as "auto",
      stdout: (l) => ctx.stdout(`${l}\n`),
      stderr: (l) => ctx.stderr(`${l}\n`),
      signal: abort.signal,
    });
    return r.exitCode;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}

async function normalizeName(name: string): Promise<string> {
  if (name.startsWith("sha256:")) return name;
  const { parseReference, familiarString } = await import("@strata/registry");
  try {
    const ref = parseReference(name);
    return familiarString(ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: "latest" } : ref);
  } catch {
    return name;
  }
}
