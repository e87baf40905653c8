import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { StrataError } from "@strata/graph";
import { HOST_PATH, runCommand, which } from "../sandbox-util/command.ts";
import { containerWatchdog } from "./die-with-strata.ts";
import { OutputSink } from "./output.ts";
import { buildRuncConfig, grantableNofile } from "./runc-config.ts";
import { withRunContext } from "./run-context.ts";
import { abortedError, killPid, pipeStdin, signalPid, supervise, toExecResult, type Supervised } from "./supervise.ts";
import type { ExecIO, ExecResult, ExecSpec, Executor } from "./types.ts";

export interface OciRuntimeExecutorOptions {
  /** Where bundles, the runtime's state and logs live (under the build store). */
  readonly stateDir: string;
  /** Which OCI runtime CLI: "runc" (default) or "crun" (same command line). */
  readonly runtime?: "runc" | "crun";
  /** The runtime binary; default: looked up on the host PATH by name. */
  readonly binary?: string;
}

/**
 * Runs each step as a container of an OCI runtime (runc, or crun): writes a bundle with
 * {@link buildRuncConfig}, runs `<runtime> run --bundle <dir> <id>` in the foreground with its
 * stdio piped, and always `<runtime> delete -f <id>` afterwards. The runtime keeps its state
 * under `stateDir`, not in /run.
 */
export class OciRuntimeExecutor implements Executor {
  readonly name: "runc" | "crun";
  readonly #stateDir: string;
  readonly #binary: string | undefined;
  #available: Promise<boolean> | undefined;

  constructor(opts: OciRuntimeExecutorOptions) {
    this.name = opts.runtime ?? "runc";
    this.#stateDir = opts.stateDir;
    this.#binary = opts.binary;
  }

  /**
   * Probes the runtime for real: an empty root with a command that does not exist must get as
   * far as the exec (namespaces, cgroups and mounts all set up), and fail there. crun 1.8, for
   * one, fails earlier on hosts with hybrid cgroup v1/v2 hierarchies.
   */
  available(): Promise<boolean> {
    this.#available ??= (async () => {
      if (process.getuid?.() !== 0) return false;
      if (!(await this.#bin())) return false;
      await mkdir(this.#stateDir, { recursive: true, mode: 0o700 });
      const dir = await mkdtemp(join(this.#stateDir, "probe-"));
      try {
        await mkdir(join(dir, "rootfs"));
        await this.run({
          rootfs: join(dir, "rootfs"),
          argv: ["/strata-runtime-probe"],
          env: [],
          cwd: "/",
          user: { uid: 0, gid: 0, additionalGids: [] },
          mounts: [],
          network: "none",
        });
        return false;
      } catch (e) {
        return e instanceof StrataError && e.code === "STRATA_RUN_EXEC_FAILED";
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    })();
    return this.#available;
  }

  async #bin(): Promise<string | undefined> {
    return this.#binary ?? (await which(this.name));
  }

  async run(spec: ExecSpec, io: ExecIO = {}): Promise<ExecResult> {
    if (io.signal?.aborted) throw abortedError(io.signal);
    const bin = await this.#bin();
    if (!bin) {
      throw new StrataError("STRATA_RUN_TOOL_MISSING", `${this.name} is not installed`, {
        hint: `install ${this.name}, or use --executor sandbox`,
      });
    }
    const root = join(this.#stateDir, `${this.name}-state`);
    return withRunContext(this.#stateDir, spec, async (ctx) => {
      const config = buildRuncConfig(spec, ctx, await grantableNofile()) as { process: object };
      const container = io.container;
      if (container?.terminal) {
        const size = container.terminalSize;
        config.process = { ...config.process, terminal: true, ...(size ? { consoleSize: { height: size.rows, width: size.columns } } : {}) };
      }
      await writeFile(join(ctx.dir, "config.json"), JSON.stringify(config), { mode: 0o600 });
      const logFile = join(ctx.dir, "runtime.log");
      const global = ["--root", root, "--log", logFile, "--log-format", "json"];
      // The container must die with strata, even when strata is killed with SIGKILL.
      const watchdog = containerWatchdog(bin, ["--root", root], ctx.id, ctx.dir);
      const child = spawn(bin, [...global, "run", "--bundle", ctx.dir, ctx.id], {
        env: { PATH: HOST_PATH, LC_ALL: "C" },
        // A terminal: the runtime holds the user's terminal and copies to the container's pty.
        stdio: container?.terminal ? [container.stdin ? "inherit" : "ignore", "inherit", "inherit"] : [container?.stdin ? "pipe" : "ignore", "pipe", "pipe"],
        // A container's runtime gets its own session: Ctrl-C reaches the caller only, which forwards it.
        detached: container !== undefined,
      });
      if (container) {
        if (!container.terminal) pipeStdin(container.stdin, child);
        // runc in the foreground forwards every signal it gets to the container's init.
        // SIGKILL would only kill runc itself: the runtime delivers that one.
        container.onStarted?.({
          signal: (sig) => void (sig === "SIGKILL" ? runCommand([bin, ...global, "kill", ctx.id, "KILL"]).catch(() => {}) : signalPid(child.pid, sig)),
        });
      }
      const sink = new OutputSink(io);
      let r: Supervised;
      try {
        r = await supervise(child, sink, io.signal, async () => {
          const deadline = Date.now() + 5000;
          while (child.exitCode === null && child.signalCode === null) {
            await runCommand([bin, ...global, "kill", ctx.id, "KILL"]).catch(() => {});
            if (Date.now() > deadline) killPid(child.pid);
            await new Promise((res) => setTimeout(res, 25));
          }
        });
      } finally {
        await sink.close();
        await runCommand([bin, ...global, "delete", "--force", ctx.id]).catch(() => {});
        watchdog.stop();
      }
      if (r.aborted) throw abortedError(io.signal);
      const errors = await runtimeErrors(logFile);
      if (errors.length > 0) {
        const msg = errors.join("; ");
        // runc: `exec: "x": executable file not found in $PATH`; crun: "executable file `x` not found".
        if (/\bexec: |executable file/.test(msg)) {
          throw new StrataError("STRATA_RUN_EXEC_FAILED", `cannot start ${JSON.stringify(spec.argv[0])}: ${msg}`, {
            hint: "the command must exist in the image (looked up on the step's PATH)",
          });
        }
        throw new StrataError("STRATA_RUN_SETUP_FAILED", `${this.name} could not start the step: ${msg}`, {
          hint: `try --executor sandbox`,
        });
      }
      return toExecResult(r);
    });
  }
}

/** Error messages from the runtime's JSON log (one object per line). */
async function runtimeErrors(logFile: string): Promise<string[]> {
  const text = await readFile(logFile, "utf8").catch(() => "");
  const out: string[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const e = JSON.parse(line) as { level?: string; msg?: string };
      if ((e.level === "error" || e.level === "fatal") && e.msg) out.push(e.msg);
    } catch {
      if (/error/i.test(line)) out.push(line.trim());
    }
  }
  return out;
}
