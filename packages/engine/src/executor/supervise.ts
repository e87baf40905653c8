import type { ChildProcess } from "node:child_process";
import { constants } from "node:os";
import { StrataError } from "@strata/graph";
import type { OutputSink } from "./output.ts";
import type { ExecResult } from "./types.ts";

export interface Supervised {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly aborted: boolean;
}

/**
 * Waits for a runtime process (and the output it forwards) to finish. When `signal` aborts,
 * `kill` is called (it must take down the whole process tree) and the wait goes on until the
 * process is really gone, so no cleanup races a still-running step.
 */
export async function supervise(
  child: ChildProcess,
  sink: OutputSink,
  signal: AbortSignal | undefined,
  kill: () => Promise<void>,
): Promise<Supervised> {
  let aborted = false;
  let killing: Promise<void> | undefined;
  const onAbort = () => {
    aborted = true;
    killing ??= kill().catch(() => {});
  };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, sig) => resolve({ code, signal: sig }));
  });
  // A runtime holding the user's terminal (stdio inherited) has no streams to collect.
  const streamsDone = child.stdout && child.stderr ? sink.attach(child.stdout, child.stderr) : Promise.resolve();
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const status = await exited;
    await streamsDone;
    await killing;
    return { ...status, aborted };
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

export function toExecResult(s: Supervised): ExecResult {
  if (s.signal) {
    const num = constants.signals[s.signal] ?? 0;
    return { exitCode: 128 + num, signal: s.signal };
  }
  return { exitCode: s.code ?? 255 };
}

export function abortedError(signal: AbortSignal | undefined): StrataError {
  return new StrataError("STRATA_RUN_ABORTED", "the RUN step was aborted", { cause: signal?.reason });
}

/** Sends SIGKILL, ignoring a process that is already gone. */
export function killPid(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Sends `sig` to a process, ignoring one that is already gone. */
export function signalPid(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * Copies a container's input to the runtime's stdin and closes it at the end (`docker run -i`
 * closes the container's stdin on EOF). A process that exits without reading all of it is not
 * an error (EPIPE).
 */
export function pipeStdin(input: NodeJS.ReadableStream | undefined, child: ChildProcess): void {
  if (!input || !child.stdin) return;
  child.stdin.on("error", () => {});
  input.pipe(child.stdin);
  child.once("exit", () => {
    input.unpipe(child.stdin!);
    // Stop reading our own stdin, or the CLI would wait for input nobody wants any more.
    (input as NodeJS.ReadableStream & { pause?: () => void }).pause?.();
  });
}
