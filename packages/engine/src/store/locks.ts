import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs";
import { StrataError } from "@strata/graph";
import type { Store } from "./store.ts";

/**
 * One lock protocol for the store, a readers–writer lock made of files in `locks/`:
 *
 * - every process that reads or writes the store for a build (loading base images, solving,
 *   writing outputs, tagging) holds a *shared* lock, `locks/build-<pid>-<nonce>`;
 * - `strata cache prune` holds the *exclusive* lock, `locks/prune` (created with O_EXCL).
 *
 * Each side first announces itself, then looks for the other: a build that finds a live
 * prune withdraws and waits for it to end; a prune that finds a live build withdraws and
 * skips (or waits, `--wait`). As both write before they read, at least one of two racing
 * processes sees the other, so a prune never deletes under a build and a build never starts
 * on a half-pruned store. A lock whose process is gone is stale: it is removed and ignored,
 * so a killed build never blocks pruning (nor a killed prune a build).
 */

const POLL_MS = 50;

const alive = (pid: number): boolean => {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms + Math.floor(Math.random() * ms)));

/** This process's shared lock: re-entrant (the CLI holds it around buildImage, which takes it again). */
let held: { file: string; count: number; root: string } | undefined;

function prunePid(store: Store): number | undefined {
  let text: string;
  try {
    text = readFileSync(store.path("locks", "prune"), "utf8");
  } catch {
    return undefined;
  }
  const pid = Number(text.split("\n")[0]);
  if (Number.isInteger(pid) && pid > 0 && alive(pid)) return pid;
  // A prune killed mid-way: stale. (An empty file is a prune between create and write: alive.)
  if (text === "") return -1;
  rmSync(store.path("locks", "prune"), { force: true });
  return undefined;
}

/**
 * Takes the shared (build) lock, waiting while a prune runs. Returns the release function.
 * Held from loading the graph's inputs to the last output and tag, never only the solve.
 */
export async function acquireBuildLock(store: Store, opts: { signal?: AbortSignal; onWait?: (pid: number) => void } = {}): Promise<() => void> {
  if (held && held.root === store.root) {
    held.count++;
    return releaseOnce();
  }
  const dir = store.path("locks");
  mkdirSync(dir, { recursive: true });
  const file = store.path("locks", `build-${process.pid}-${randomBytes(4).toString("hex")}`);
  let told = false;
  for (;;) {
    if (opts.signal?.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : new StrataError("STRATA_BUILD_ABORTED", "the build was interrupted");
    writeLock(file, `${process.pid}\n${Date.now()}\n`);
    const pruning = prunePid(store);
    if (pruning === undefined) break;
    rmSync(file, { force: true });
    if (!told && pruning > 0) opts.onWait?.(pruning);
    told = true;
    await sleep(POLL_MS);
  }
  held = { file, count: 1, root: store.root };
  return releaseOnce();
}

function releaseOnce(): () => void {
  let done = false;
  return () => {
    if (done || !held) return;
    done = true;
    if (--held.count === 0) {
      rmSync(held.file, { force: true });
      held = undefined;
    }
  };
}

function writeLock(file: string, text: string): void {
  const fd = openSync(file, "w", 0o600);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/** Process ids of other live builds using the store (stale locks are removed). */
export function liveBuilds(store: Store): number[] {
  let names: string[];
  try {
    names = readdirSync(store.path("locks"));
  } catch {
    return [];
  }
  const out = new Set<number>();
  for (const n of names) {
    const m = /^build-(\d+)(?:-[0-9a-f]+)?$/.exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid) continue;
    if (alive(pid)) out.add(pid);
    else rmSync(store.path("locks", n), { force: true });
  }
  return [...out];
}

/** The outcome of asking for the exclusive lock. */
export type PruneLock = { readonly release: () => void } | { readonly busy: readonly number[] };

/**
 * Takes the exclusive (prune) lock. With live builds it withdraws and reports them (`busy`);
 * with `wait`, it waits until none runs instead. Another prune running is waited for.
 */
export async function acquirePruneLock(store: Store, opts: { wait?: boolean; signal?: AbortSignal; onWait?: (pids: readonly number[]) => void } = {}): Promise<PruneLock> {
  mkdirSync(store.path("locks"), { recursive: true });
  const file = store.path("locks", "prune");
  let told = false;
  for (;;) {
    if (opts.signal?.aborted) throw new StrataError("STRATA_PRUNE_ABORTED", "prune was interrupted");
    let fd: number;
    try {
      fd = openSync(file, "wx", 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      prunePid(store); // removes a stale one
      await sleep(POLL_MS);
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n${Date.now()}\n`);
    } finally {
      closeSync(fd);
    }
    const busy = liveBuilds(store);
    if (!busy.length) return { release: () => rmSync(file, { force: true }) };
    rmSync(file, { force: true });
    if (!opts.wait) return { busy };
    if (!told) opts.onWait?.(busy);
    told = true;
    await sleep(POLL_MS * 2);
  }
}
