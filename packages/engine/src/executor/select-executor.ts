import { join } from "node:path";
import { StrataError } from "@strata/graph";
import { OciRuntimeExecutor } from "./runc-executor.ts";
import { SandboxExecutor } from "./sandbox-executor.ts";
import type { Executor, ExecutorName } from "./types.ts";

export type ExecutorChoice = ExecutorName | "auto";

export interface SelectExecutorOptions {
  /** The build store directory the executors keep their per-run files in (`<stateDir>/<name>`). */
  readonly stateDir: string;
  /** `--executor`; default "auto". */
  readonly executor?: ExecutorChoice;
}

/** Every executor this package has, in the order "auto" tries them. */
export function createExecutors(stateDir: string): Executor[] {
  return [
    new OciRuntimeExecutor({ stateDir: join(stateDir, "runc"), runtime: "runc" }),
    new OciRuntimeExecutor({ stateDir: join(stateDir, "crun"), runtime: "crun" }),
    new SandboxExecutor({ stateDir: join(stateDir, "sandbox") }),
  ];
}

/**
 * Picks the executor for a build: the forced one (it must work here), or with "auto" the first
 * that works of runc, crun and the built-in sandbox. Each candidate is probed by running a
 * real (empty) container once, so a runtime that is installed but broken on this host (crun 1.8
 * on hybrid cgroups) is skipped.
 */
export async function selectExecutor(opts: SelectExecutorOptions): Promise<Executor> {
  const choice = opts.executor ?? "auto";
  const all = createExecutors(opts.stateDir);
  if (choice !== "auto") {
    const ex = all.find((e) => e.name === choice);
    if (!ex) {
      throw new StrataError("STRATA_RUN_UNKNOWN_EXECUTOR", `unknown executor ${JSON.stringify(choice)}`, {
        hint: "use runc, crun, sandbox or auto",
      });
    }
    if (!(await ex.available())) {
      throw new StrataError("STRATA_RUN_EXECUTOR_UNAVAILABLE", `the ${choice} executor cannot run steps on this host`, {
        hint: process.getuid?.() === 0 ? "use --executor auto to pick one that works" : "native builds with RUN steps need root",
      });
    }
    return ex;
  }
  for (const ex of all) if (await ex.available()) return ex;
  throw new StrataError("STRATA_RUN_NO_EXECUTOR", "no executor can run RUN steps on this host", {
    hint: "run as root with runc installed, or with util-linux (unshare, setpriv) for the built-in sandbox; or use --engine docker",
  });
}
