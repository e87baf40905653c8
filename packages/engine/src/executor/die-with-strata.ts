import { spawn } from "node:child_process";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { HOST_PATH, runCommand, which } from "../sandbox-util/command.ts";
import { shQuote } from "./fstab.ts";

let setprivP: Promise<string | undefined> | undefined;

/**
 * `argv` prefixed so that the process gets SIGKILL the moment strata dies (PR_SET_PDEATHSIG via
 * util-linux `setpriv --pdeathsig`; it survives the exec into the real tool). A build killed
 * with SIGKILL cannot run any cleanup itself: this is what takes its RUN step down with it.
 * Without setpriv (util-linux; the built-in sandbox needs it anyway) the argv is returned unchanged.
 */
export async function dieWithStrata(argv: readonly string[]): Promise<string[]> {
  setprivP ??= which("setpriv");
  const setpriv = await setprivP;
  if (!setpriv) return [...argv];
  // A parent that dies before setpriv set the signal never sends it: the shell (which execs
  // the tool, same process) checks that its parent is still strata once the signal is armed.
  const guard = `[ "$PPID" = ${process.pid} ] || exit 137; exec "$@"`;
  return [setpriv, "--pdeathsig=KILL", "--", "/bin/sh", "-c", guard, "strata-guard", ...argv];
}

/** The id an OCI runtime container of this process gets: `strata-<pid>-<hex>`, so a later build can tell whose it was. */
const CONTAINER_ID = /^strata-(\d+)-[0-9a-f]+$/;

/**
 * An idle host `sh` that runs `cleanup` the moment strata dies, however it dies (SIGKILL, the
 * OOM killer): it blocks reading a pipe from strata, and the kernel closes that pipe when strata
 * is gone. `stop()` ends it without cleaning (the normal path: strata cleaned up itself). Nothing
 * else runs meanwhile (no timer, no child), and it does not keep strata's event loop alive.
 */
export function spawnWatchdog(cleanup: string): { stop(): void } {
  const script = `read -r line; [ "$line" = stop ] && exit 0; ${cleanup}`;
  const child = spawn("/bin/sh", ["-c", script], { env: { PATH: HOST_PATH, LC_ALL: "C" }, stdio: ["pipe", "ignore", "ignore"], detached: true });
  child.on("error", () => {});
  child.stdin!.on("error", () => {});
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  let stopped = false;
  return {
    stop: () => {
      if (stopped) return;
      stopped = true;
      child.stdin!.end("stop\n");
    },
  };
}

/**
 * A watchdog for one OCI runtime container: when strata dies it kills and deletes the container
 * and removes its bundle (which holds the step's environment). runc has no parent-death option
 * for a container, and its `run` process dying leaves the container running; this closes that gap.
 */
export function containerWatchdog(runtime: string, globalArgs: readonly string[], id: string, bundle: string): { stop(): void } {
  const rt = [runtime, ...globalArgs].map(shQuote).join(" ");
  return spawnWatchdog(`${rt} kill ${shQuote(id)} KILL 2>/dev/null; ${rt} delete --force ${shQuote(id)} 2>/dev/null; rm -rf ${shQuote(bundle)}`);
}

/**
 * Kills and deletes the containers in a runtime's state directory whose strata process is gone
 * (a build killed before even its watchdog ran), never those of a live build. Returns their ids.
 */
export async function reclaimContainers(runtime: string, root: string, alive: (pid: number) => boolean): Promise<string[]> {
  const names = await readdir(root).catch(() => [] as string[]);
  const out: string[] = [];
  for (const id of names) {
    const m = CONTAINER_ID.exec(id);
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    await runCommand([runtime, "--root", root, "kill", id, "KILL"]).catch(() => {});
    await runCommand([runtime, "--root", root, "delete", "--force", id]).catch(() => {});
    out.push(id);
  }
  return out;
}

/** The state directory runtime `name` keeps its containers in, under the executors' state directory. */
export function runtimeRoot(stateDir: string, name: "runc" | "crun"): string {
  return join(stateDir, name, `${name}-state`);
}
