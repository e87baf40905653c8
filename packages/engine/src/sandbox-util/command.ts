import { spawn } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { StrataError, type ErrorCode } from "@strata/graph";

/** The PATH host tools are looked up in; never the caller's, so a build cannot redirect them. */
export const HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface CommandResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs a host tool to completion and collects its output (for short-lived helpers only). */
export function runCommand(
  argv: readonly string[],
  opts: { cwd?: string; input?: string | Buffer; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd!, args, {
      cwd: opts.cwd,
      env: opts.env ?? { PATH: HOST_PATH, LC_ALL: "C" },
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on("data", (b: Buffer) => out.push(b));
    child.stderr!.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString("utf8") }),
    );
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** Like {@link runCommand} but throws a StrataError with `code` when the tool fails. */
export async function runChecked(
  code: ErrorCode,
  argv: readonly string[],
  opts: { cwd?: string; input?: string | Buffer } = {},
): Promise<Buffer> {
  let r: CommandResult;
  try {
    r = await runCommand(argv, opts);
  } catch (e) {
    throw new StrataError(code, `cannot run ${argv[0]}: ${(e as Error).message}`, { cause: e });
  }
  if (r.code !== 0) {
    throw new StrataError(code, `${argv.join(" ")} failed (${r.signal ?? `exit ${r.code}`}): ${r.stderr.trim()}`);
  }
  return r.stdout;
}

const whichCache = new Map<string, Promise<string | undefined>>();

/** Absolute path of a host executable on {@link HOST_PATH}, or undefined. Memoized. */
export function which(name: string): Promise<string | undefined> {
  let p = whichCache.get(name);
  if (!p) {
    p = (async () => {
      for (const dir of HOST_PATH.split(":")) {
        const full = `${dir}/${name}`;
        try {
          await access(full, constants.X_OK);
          return full;
        } catch {
          // try the next directory
        }
      }
      return undefined;
    })();
    whichCache.set(name, p);
  }
  return p;
}
