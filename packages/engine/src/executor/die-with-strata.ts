import { spawn, type ChildProcess } from "node:child_process";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { HOST_PATH, runCommand, which } from "../sandbox-util/command.ts";
import { shQuote } from "./fstab.ts";

let setprivP: Promise<string | undefined> | undefined;

/**
 * `argv` prefixed so that the process gets `signal` the moment strata dies (PR_SET_PDEATHSIG via
 * util-linux `setpriv --pdeathsig`; it survives the exec into the real tool). A build killed
 * with SIGKILL cannot run any cleanup itself: this is what takes its RUN step down with it.
 * Without setpriv the argv is returned unchanged and the next build reclaims what is left.
 */
export async function dieWithStrata(argv: readonly string[], signal: "KILL" | "TERM" = "KILL"): Promise<string[]> {
  setprivP ??= which("setpriv");
  const setpriv = await setprivP;
  if (!setpriv) return [...argv];
  // A parent that dies before setpriv set the signal never sends it: the shell (which execs
  // the tool, same process) checks that its parent is still strata once the signal is armed.
  const guard = `[ "$PPID" = ${process.pid} ] || exit 137; exec "$@"`;
  return [setpriv, `--pdeathsig=${signal}`, "--", "/bin/sh", "-c", guard, "strata-guard", ...argv];
}

/** The id an OCI runtime container of this process gets: `strata-<pid>-<hex>`, so a later build can tell whose it was. */
export const CONTAINER_ID = /^strata-(\d+)-[0-9a-f]+$/;

/**
 * A watchdog for one OCI runtime container: an idle `sh` that, when strata dies (its parent-death
 * signal, SIGTERM), kills and deletes the container and removes its bundle (which holds the
 * step's environment). runc has no parent-death option for a container, and its `run` process
 * dying leaves the container running; this closes that gap. `stop()` ends the watchdog after
 * a normal run.
 */
export async function containerWatchdog(runtime: string, globalArgs: readonly string[], id: string, bundle: string): Promise<{ stop(): void }> {
  const rt = [runtime, ...globalArgs].map(shQuote).join(" ");
  const script = [
    `trap 'kill $s 2>/dev/null; exit 0' USR1`,
    `trap 'kill $s 2>/dev/null; ${rt} kill ${shQuote(id)} KILL 2>/dev/null; ${rt} delete --force ${shQuote(id)} 2>/dev/null; rm -rf ${shQuote(bundle)}; exit 0' TERM`,
    // `wait` returns as soon as a trapped signal arrives (a foreground sleep would delay it).
    `while :; do sleep 3600 & s=$!; wait $s; done`,
  ].join("\n");
  const [cmd, ...args] = await dieWithStrata(["/bin/sh", "-c", script], "TERM");
  const child: ChildProcess = spawn(cmd!, args, { env: { PATH: HOST_PATH, LC_ALL: "C" }, stdio: "ignore", detached: true });
  child.on("error", () => {});
  // It must not keep the event loop (and so strata) alive.
  child.unref();
  return {
    stop: () => {
      try {
        child.kill("SIGUSR1");
      } catch {
        // already gone
      }
    },
  };
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
