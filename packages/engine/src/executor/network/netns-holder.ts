import { spawn, type ChildProcess } from "node:child_process";
import { StrataError } from "@strata/graph";
import { HOST_PATH, which } from "../../sandbox-util/command.ts";

/** A fresh network namespace, kept alive by a tiny process, with `lo` up. */
export interface NetnsHolder {
  readonly pid: number;
  /** `/proc/<pid>/ns/net`. */
  readonly path: string;
  /** Ends the holder; the namespace is freed once no step process is left in it. */
  close(): Promise<void>;
}

/**
 * Creates the namespace with `unshare --net` around `sh`, which brings `lo` up (unless
 * `loopbackUp` is false: slirp4netns does it itself, and one `ip` less is ~3 ms), says "ready"
 * and then blocks reading its stdin, a pipe from this process. "ready" also proves that the
 * namespace exists before anyone joins /proc/<pid>/ns/net (joining it earlier would join the
 * host's). Nothing is mounted (no
 * `ip netns` bind mount to leak): the namespace lives as long as the holder or a process inside
 * it, and the holder ends when the pipe closes, which the kernel does when strata dies in any
 * way, SIGKILL included.
 */
export async function createNetns(opts: { loopbackUp?: boolean } = {}): Promise<NetnsHolder> {
  const lo = opts.loopbackUp ?? true;
  const unshare = await which("unshare");
  const ip = lo ? await which("ip") : "";
  if (!unshare || ip === undefined) {
    throw new StrataError("STRATA_RUN_TOOL_MISSING", `an isolated network needs ${!unshare ? "unshare (util-linux)" : "ip (iproute2)"} on the host`, {
      hint: `install ${!unshare ? "util-linux" : "iproute2"}`,
    });
  }
  const script = `${lo ? `'${ip}' link set lo up || exit 1; ` : ""}echo ready; read _ || :`;
  const child = spawn(unshare, ["--net", "--", "/bin/sh", "-c", script], {
    env: { PATH: HOST_PATH, LC_ALL: "C" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  await waitReady(child);
  const pid = child.pid!;
  let closed: Promise<void> | undefined;
  return {
    pid,
    path: `/proc/${pid}/ns/net`,
    close() {
      closed ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.stdin!.end();
        // `read` returns on EOF; SIGKILL is the fallback for a holder that is stuck.
        setTimeout(() => child.kill("SIGKILL"), 2000).unref();
      });
      return closed;
    },
  };
}

function waitReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let err = "";
    let out = "";
    child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
    const onData = (b: Buffer) => {
      out += b.toString();
      if (out.includes("ready\n")) {
        child.stdout!.off("data", onData);
        child.off("exit", onExit);
        resolve();
      }
    };
    const onExit = (code: number | null, sig: NodeJS.Signals | null) =>
      reject(
        new StrataError("STRATA_RUN_SETUP_FAILED", `cannot create a network namespace (${sig ?? `exit ${code}`}): ${err.trim()}`, {
          hint: "an isolated network needs root (CAP_SYS_ADMIN) and a kernel with network namespaces",
        }),
      );
    child.stdout!.on("data", onData);
    child.once("exit", onExit);
    child.once("error", (e) => reject(new StrataError("STRATA_RUN_SETUP_FAILED", `cannot start unshare: ${e.message}`, { cause: e })));
  });
}
