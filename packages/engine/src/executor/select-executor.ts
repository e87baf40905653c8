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
 * that works of runc and crun. Each candidate is probed by running a real (empty) container
 * once, so a runtime that is installed but broken on this host (crun 1.8 on hybrid cgroups) is
 * skipped. Then the built-in sandbox, but only where it applies the seccomp filter
 * ({@link SandboxExecutor.appliesSeccomp}): without one a step could create user namespaces,
 * use keyctl, bpf, …, so it runs only when asked for by name, and the error says so.
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
  for (const ex of all) if (ex.name !== "sandbox" && (await ex.available())) return ex;
  const sandbox = all.find((e): e is SandboxExecutor => e instanceof SandboxExecutor);
  if (sandbox && (await sandbox.available())) {
    if (await sandbox.appliesSeccomp()) return sandbox;
    throw new StrataError("STRATA_RUN_NO_EXECUTOR", "neither runc nor crun can run RUN steps on this host", {
      hint:
        "install runc (or perl, with which the built-in sandbox loads its seccomp filter on x86_64); --executor auto does not choose " +
        "the sandbox without a seccomp filter (steps could create namespaces, use keyctl or bpf). Pass --executor sandbox to accept that, or use --engine docker",
    });
  }
  throw new StrataError("STRATA_RUN_NO_EXECUTOR", "no executor can run RUN steps on this host", {
    hint: "run as root with runc installed (or util-linux for --executor sandbox); or use --engine docker",
  });
}
