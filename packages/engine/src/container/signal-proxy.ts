import type { ExecControl } from "../executor/index.ts";

/** Signals `docker run` proxies to the container (not SIGCHLD, SIGPIPE, SIGURG; SIGWINCH only for a terminal). */
const PROXIED: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

/** Ctrl-C this many times and the container is killed, for a PID 1 that ignores SIGINT (docker's CLI has the same escape hatch). */
const FORCE_AFTER = 3;

export interface SignalProxy {
  /** Once the container runs: signals from now on go to its PID 1. */
  attach(control: ExecControl): void;
  /** Aborted when a signal arrives before the container started (nothing to forward it to yet); the reason is the signal's name. */
  readonly early: AbortSignal;
  /** Whether the container was killed by repeated Ctrl-C. */
  readonly forced: boolean;
  dispose(): void;
}

/**
 * `docker run`'s sig-proxy: this process catches the signals a user sends it (or its terminal
 * sends to the foreground process group) and forwards each to the container's PID 1, which then
 * decides — a PID 1 without a handler ignores SIGINT and SIGTERM, as in docker. The runtime runs
 * in its own session, so nothing is delivered twice. The third SIGINT kills the container.
 * With a terminal, SIGWINCH is forwarded so the runtime copies the new window size to the pty.
 */
export function proxySignals(opts: { terminal: boolean; onForce?: () => void }): SignalProxy {
  const ac = new AbortController();
  let control: ExecControl | undefined;
  let interrupts = 0;
  let forced = false;
  const handlers = new Map<NodeJS.Signals, () => void>();
  const deliver = (sig: NodeJS.Signals) => {
    if (!control) {
      if (sig !== "SIGWINCH") ac.abort(sig);
      return;
    }
    control.signal(sig);
  };
  for (const sig of [...PROXIED, ...(opts.terminal ? (["SIGWINCH"] as const) : [])]) {
    const h = () => {
      if (sig === "SIGINT" && ++interrupts >= FORCE_AFTER && control) {
        forced = true;
        opts.onForce?.();
        control.signal("SIGKILL");
        return;
      }
      deliver(sig);
    };
    handlers.set(sig, h);
    process.on(sig, h);
  }
  return {
    early: ac.signal,
    get forced() {
      return forced;
    },
    attach(c) {
      control = c;
      // The terminal may have been resized while the container started.
      if (opts.terminal) c.signal("SIGWINCH");
    },
    dispose() {
      for (const [sig, h] of handlers) process.off(sig, h);
    },
  };
}
