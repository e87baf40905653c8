import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { isStrataError } from "@strata/graph";
import { usageError, type CommandSpec, type ParsedArgs } from "../argv.ts";
import type { CliContext } from "../context.ts";
import { strataHome } from "../load/strata-home.ts";
import { isDockerfileName } from "../load/load-target.ts";
import { reportError } from "../ui/report-error.ts";
import { normalizeImageName } from "./image-ref.ts";

export const spec: CommandSpec = {
  name: "run",
  summary: "Run an image as a container in Strata's sandbox (no Docker needed).",
  usage: "strata run [OPTIONS] IMAGE|FILE [COMMAND ARGS...]",
  description:
    "IMAGE is a name in the store (`strata build -t`, `strata pull`, `strata tag`) or a manifest digest; a\n" +
    "FILE (.image.ts or Dockerfile) is built first. The image's layers are stacked read-only with a fresh\n" +
    "writable layer on top, discarded at exit (kept with --name until `strata rm NAME`). The container\n" +
    "has the isolation of a build's RUN steps. Its ENTRYPOINT, CMD (replaced by COMMAND), Env, User and\n" +
    "WorkingDir apply; ExposedPorts are only listed (publish with -p); a HEALTHCHECK is not run.\n" +
    "Everything after IMAGE is the command, as with docker run (`--` before it works too).\n" +
    "Signals sent to strata go to the container's PID 1 (a PID 1 without a handler ignores SIGINT and\n" +
    "SIGTERM, as in docker; the third Ctrl-C kills the container). With -t the OCI runtime allocates a\n" +
    "pseudo-terminal inside the container and resizes follow the window (runc or crun needed).\n" +
    "Exit status: the container's (128+n when signal n ended it: 130 Ctrl-C, 137 SIGKILL); 125 when\n" +
    "strata could not run it; 127 when the command does not exist in the image; 2 invalid usage.\n" +
    "Needs root (namespaces and overlayfs), like the RUN steps of a build.",
  positionals: { min: 1, max: 1 },
  options: [
    { name: "rm", type: "boolean", description: "remove the container at exit (always so without --name)" },
    { name: "interactive", short: "i", type: "boolean", description: "keep stdin open and pass it to the container" },
    { name: "tty", short: "t", type: "boolean", description: "allocate a pseudo-terminal" },
    { name: "env", short: "e", type: "list", placeholder: "K=V", description: "set an environment variable (K alone: from this environment)" },
    { name: "env-file", type: "list", placeholder: "FILE", description: "read KEY=value lines (docker's format)" },
    { name: "volume", short: "v", type: "list", placeholder: "HOST:CTR[:ro]", description: "bind a host path into the container" },
    { name: "mount", type: "list", placeholder: "SPEC", description: "type=bind,source=…,target=…[,readonly] or type=tmpfs,target=…[,tmpfs-size=…]" },
    { name: "publish", short: "p", type: "list", placeholder: "[IP:]HOST:CTR[/udp]", description: "forward a host port to a container port" },
    { name: "workdir", short: "w", type: "string", placeholder: "DIR", description: "working directory inside the container" },
    { name: "user", short: "u", type: "string", placeholder: "USER[:GROUP]", description: "run as this user (name or id)" },
    { name: "entrypoint", type: "string", placeholder: "CMD", description: 'replace the image\'s ENTRYPOINT ("" clears it)' },
    { name: "network", type: "string", values: ["default", "none", "host"], description: "default: own namespace with outbound access; none: only lo; host: the host's" },
    { name: "name", type: "string", placeholder: "NAME", description: "name the container and keep its writable layer after exit" },
    { name: "platform", type: "string", placeholder: "OS/ARCH", description: "the image's platform (only this host's platform runs for now)" },
    { name: "target", type: "string", placeholder: "NAME", description: "with a FILE: the target to build and run" },
    { name: "executor", type: "string", values: ["auto", "runc", "crun", "sandbox"], description: "how to isolate the container" },
    { name: "detach", short: "d", type: "boolean", description: "not supported: strata run stays in the foreground" },
  ],
  examples: [
    "strata run --rm -it app:dev sh",
    "echo hi | strata run -i app:dev cat",
    "strata run -p 8080:80 -v \"$PWD/www:/www:ro\" app:dev httpd -f -h /www",
    "strata run examples/hello/hello.image.ts",
  ],
};

/** Short flags that take no value, so `-it` is `-i -t` as in docker. */
const BOOLEAN_SHORTS = new Set(spec.options.filter((o) => o.type === "boolean" && o.short).map((o) => o.short!));
const VALUE_SHORTS = new Set(spec.options.filter((o) => o.type !== "boolean" && o.short).map((o) => o.short!));
const VALUE_LONGS = new Set(spec.options.filter((o) => o.type !== "boolean").map((o) => o.name));

/**
 * docker's command line: flags before IMAGE, everything after it is the command (so
 * `strata run img ls -l` runs `ls -l`), and clustered short booleans (`-it`); or flags after
 * IMAGE when a `--` ends them. Returns the argv
 * the common parser reads (`… IMAGE -- COMMAND…`).
 */
export function rewriteArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") return [...out, ...argv.slice(i)];
    if (a.startsWith("--")) {
      out.push(a);
      if (!a.includes("=") && VALUE_LONGS.has(a.slice(2)) && i + 1 < argv.length) out.push(argv[++i]!);
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      const letters = a.slice(1);
      if (letters.length > 1 && [...letters].every((c) => BOOLEAN_SHORTS.has(c))) {
        for (const c of letters) out.push(`-${c}`);
        continue;
      }
      // `-it` followed by a value flag in one cluster (`-ite X`) is docker's too.
      const lastValue = letters.length > 1 && [...letters.slice(0, -1)].every((c) => BOOLEAN_SHORTS.has(c)) && VALUE_SHORTS.has(letters.at(-1)!);
      if (lastValue) {
        for (const c of letters.slice(0, -1)) out.push(`-${c}`);
        out.push(`-${letters.at(-1)}`);
        if (i + 1 < argv.length) out.push(argv[++i]!);
        continue;
      }
      out.push(a);
      if (letters.length === 1 && VALUE_SHORTS.has(letters) && i + 1 < argv.length) out.push(argv[++i]!);
      continue;
    }
    // The image: the rest is its command. Strata's older form, flags after IMAGE and then `--`
    // (`strata run img -e K=V -- cmd`), still works: a flag right after IMAGE with a `--` later.
    out.push(a);
    const rest = argv.slice(i + 1);
    if (rest[0]?.startsWith("-") && rest[0] !== "--" && rest.includes("--")) {
      const flags = rewriteArgv(rest.slice(0, rest.indexOf("--")));
      return [...out, ...flags, ...rest.slice(rest.indexOf("--"))];
    }
    return rest.length ? [...out, "--", ...(rest[0] === "--" ? rest.slice(1) : rest)] : out;
  }
  return out;
}

export async function run(args: ParsedArgs, ctx: CliContext): Promise<number> {
  try {
    return await runContainerCommand(args, ctx);
  } catch (e) {
    const code = reportError(e, { stderr: ctx.stderr, color: ctx.color, debug: args.options.debug === true });
    if (code === 2) return 2;
    // docker run's statuses: 127 the command does not exist, 125 the run itself failed.
    return isStrataError(e) && e.code === "STRATA_RUN_EXEC_FAILED" ? 127 : 125;
  }
}

async function runContainerCommand(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const o = args.options;
  if (o.detach) throw usageError("-d/--detach is not supported: strata run keeps the container in the foreground", spec);
  const stdinStream = ctx.streams?.stdin ?? process.stdin;
  if (o.tty && o.interactive && !stdinStream.isTTY) {
    throw usageError("the input device is not a TTY (-it needs a terminal on stdin; drop -t to pipe input)", spec);
  }
  const target = args.positionals[0]!;
  const engine = await import("@strata/engine");
  const store = new engine.Store(strataHome(ctx.env));
  const mounts = [
    ...((o.volume as string[] | undefined) ?? []).map((v) => engine.parseVolume(v, ctx.cwd)),
    ...((o.mount as string[] | undefined) ?? []).map((m) => engine.parseMount(m, ctx.cwd)),
  ];
  const publish = ((o.publish as string[] | undefined) ?? []).flatMap((p) => engine.parsePortMapping(p));
  const env = [...((o["env-file"] as string[] | undefined) ?? []).flatMap((f) => engine.readEnvFile(f, ctx.cwd, ctx.env)), ...((o.env as string[] | undefined) ?? [])];
  let image: Awaited<ReturnType<typeof engine.findImage>> | undefined;
  const abs = resolve(ctx.cwd, target);
  if (existsSync(abs) && (isDockerfileName(target) || /\.(m|c)?[jt]sx?$/.test(target))) {
    const { runCli } = await import("../main.ts");
    // The build prints the image ID (the config digest); the store finds images by manifest
    // digest, which the build's metadata file names.
    const meta = join(mkdtempSync(join(tmpdir(), "strata-run-")), "metadata.json");
    let code: number;
    try {
      code = await runCli(["build", target, "--progress", "quiet", "--metadata-file", meta, ...(o.target ? ["--target", o.target as string] : [])], { ...ctx, stdout: () => {} });
      if (code === 0) image = await engine.findImage(store, (JSON.parse(readFileSync(meta, "utf8")) as Record<string, string>)["containerimage.digest"]!);
    } finally {
      rmSync(dirname(meta), { recursive: true, force: true });
    }
    if (code !== 0 || !image) return code === 2 ? 2 : 125;
  } else {
    image = await engine.resolveImage(store, await normalizeImageName(target));
  }
  const bytes = (text: (t: string) => void, raw: ((b: Uint8Array) => void) | undefined) => raw ?? ((b: Uint8Array) => text(Buffer.from(b).toString("utf8")));
  const r = await engine.runContainer(store, image, {
    imageName: target,
    ...(args.rest.length ? { command: args.rest } : {}),
    ...(o.entrypoint !== undefined ? { entrypoint: o.entrypoint === "" ? [] : [o.entrypoint as string] } : {}),
    env,
    hostEnv: ctx.env,
    ...(o.user ? { user: o.user as string } : {}),
    ...(o.workdir ? { workdir: o.workdir as string } : {}),
    ...(o.network ? { network: o.network as "default" | "none" | "host" } : {}),
    ...(o.name ? { name: o.name as string } : {}),
    ...(o.rm ? { rm: true } : {}),
    ...(o.platform ? { platform: o.platform as string } : {}),
    ...(o.interactive ? { stdin: stdinStream } : {}),
    ...(o.tty ? { terminal: true } : {}),
    mounts,
    publish,
    executor: ((o.executor as string | undefined) ?? "auto") as "auto",
    stdout: bytes(ctx.stdout, ctx.streams?.stdout),
    stderr: bytes(ctx.stderr, ctx.streams?.stderr),
    note: (l) => ctx.stderr(`${l}\n`),
  });
  return r.exitCode;
}
