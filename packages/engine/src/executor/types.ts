import type { PortMapping } from "./network/index.ts";

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
  /** Host→container port forwards through the user-mode stack (`strata run -p`); only with `network: "default"`. */
  readonly ports?: readonly PortMapping[];
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
  /** Container mode (`strata run`): stdin, raw output, a terminal and signal forwarding. */
  readonly container?: ContainerIO;
}

/**
 * What a container run needs beyond a RUN step. The runtime is started in its own session, so
 * signals the user's terminal sends reach only the caller, which decides what to forward through
 * {@link ExecControl} (`docker run`'s sig-proxy).
 */
export interface ContainerIO {
  /**
   * Piped to the process's stdin, which is closed when this ends. Without it stdin is /dev/null.
   * With `terminal` it must be this process's own stdin: the runtime then reads fd 0 itself.
   */
  readonly stdin?: NodeJS.ReadableStream;
  /**
   * A pseudo-terminal for the process, allocated by the OCI runtime inside the container's own
   * devpts (runc/crun `process.terminal` in the foreground): the runtime gets this process's
   * stdio (the user's terminal), puts it in raw mode and copies bytes both ways; SIGWINCH sent
   * through {@link ExecControl.signal} makes it copy the window size. Only the OCI runtimes
   * support it; the sandbox executor rejects it.
   */
  readonly terminal?: boolean;
  /** The terminal's size when the process starts (set before it runs, so its first look is right). */
  readonly terminalSize?: { readonly rows: number; readonly columns: number };
  /** Every chunk of stdout / stderr as it arrives, bytes untouched (instead of line callbacks). */
  readonly onStdoutData?: (chunk: Buffer) => void;
  readonly onStderrData?: (chunk: Buffer) => void;
  /** Called once the process runs, with the handle that signals it. */
  readonly onStarted?: (control: ExecControl) => void;
}

/** A running container's process. */
export interface ExecControl {
  /** Sends `sig` to the container's PID 1 (SIGWINCH: the runtime resizes the terminal). */
  signal(sig: NodeJS.Signals): void;
}

export interface ExecResult {
  /** The process's exit code, or 128 + the signal number when a signal ended it (as shells report it). */
  readonly exitCode: number;
  readonly signal?: NodeJS.Signals;
}
