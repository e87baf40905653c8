/**
 * The contract between the solver and whatever runs a RUN step. Everything in an
 * {@link ExecSpec} is already resolved: host paths, numeric ids, the exact environment. An
 * executor adds nothing of its own to the process but the sandbox (namespaces, /proc, /dev,
 * /etc/hosts, /etc/resolv.conf, Docker's default capabilities).
 */
export interface Executor {
  /** "runc", "crun" or "sandbox". */
  readonly name: ExecutorName;
  /** Whether this executor can run containers here (probed once, then memoized). */
  available(): Promise<boolean>;
  /**
   * Runs one process to completion. Resolves with its exit status (non-zero is not an
   * error); rejects with a StrataError when the sandbox could not be set up
   * (`STRATA_RUN_SETUP_FAILED`), the command could not be started (`STRATA_RUN_EXEC_FAILED`)
   * or `io.signal` aborted the run (`STRATA_RUN_ABORTED`, after the whole process tree is gone).
   */
  run(spec: ExecSpec, io?: ExecIO): Promise<ExecResult>;
}

export type ExecutorName = "runc" | "crun" | "sandbox";

export type ExecNetwork = "default" | "none" | "host";

export interface ExecSpec {
  /**
   * The merged root filesystem (host path), e.g. a mounted overlay. Mount points that do
   * not exist are created for the run and removed afterwards (empty stubs only), so they do
   * not end up in the layer; a missing `cwd` is created and kept, as `docker build` does.
   */
  readonly rootfs: string;
  /** The command; `argv[0]` is looked up on the `PATH` in `env` inside the root. */
  readonly argv: readonly string[];
  /**
   * The complete environment as `KEY=value`. Nothing is added except `HOME` when it is
   * missing (the user's passwd home, else "/"), because runc always does that and Docker's
   * behaviour depends on it; pass HOME to control it.
   */
  readonly env: readonly string[];
  /** Absolute container path; created if missing (owned by `user`). */
  readonly cwd: string;
  readonly user: ExecUser;
  /** Applied in order, after the executor's own mounts; targets are container paths. */
  readonly mounts: readonly ExecMount[];
  /**
   * `default`: a namespace of its own with outbound access through slirp4netns and its DNS
   * forwarder; the host's loopback is unreachable (see `startNetwork`). `none`: a fresh
   * namespace with only `lo` (up). `host`: the host's namespace (an entitlement the caller
   * checks).
   */
  readonly network: ExecNetwork;
  /**
   * `sandbox` (default): Docker's default seccomp profile and capability set. `insecure`: all
   * capabilities, no seccomp filter, no masked paths, /sys writable (BuildKit's
   * `--security=insecure`; an entitlement the caller checks).
   */
  readonly security?: "sandbox" | "insecure";
  /** Default "strata". Also written to /etc/hosts for 127.0.0.1. */
  readonly hostname?: string;
  /** Extra `/etc/hosts` lines (`--add-host`). */
  readonly extraHosts?: readonly { readonly host: string; readonly ip: string }[];
}

/** Numeric ids, resolved against the image's /etc/passwd and /etc/group ({@link resolveUser}). */
export interface ExecUser {
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups (setgroups), without `gid` unless listed on purpose. */
  readonly additionalGids: readonly number[];
}

export type ExecMount =
  /** A host file or directory. */
  | { readonly type: "bind"; readonly source: string; readonly target: string; readonly readonly: boolean }
  /** A fresh tmpfs; `size` in bytes (default: the kernel's, half of RAM). */
  | { readonly type: "tmpfs"; readonly target: string; readonly size?: number }
  /** A file the caller wrote on a tmpfs, bound read-only; it never reaches the rootfs. */
  | { readonly type: "secret"; readonly source: string; readonly target: string }
  /** A persistent cache directory, bound read-write. */
  | { readonly type: "cache"; readonly source: string; readonly target: string };

export interface ExecIO {
  /** Each complete line of stdout (without its newline); a last unterminated line is flushed at exit. */
  readonly onStdout?: (line: string) => void;
  readonly onStderr?: (line: string) => void;
  /** Raw bytes of both streams, interleaved in arrival order, written here in full (no clipping). */
  readonly logFile?: string;
  /** Aborting kills the whole process tree and cleans up before `run` rejects. */
  readonly signal?: AbortSignal;
}

export interface ExecResult {
  /** The process's exit code, or 128 + the signal number when a signal ended it (as shells report it). */
  readonly exitCode: number;
  readonly signal?: NodeJS.Signals;
}
