import { lstatSync, readdirSync, rmdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { digestHex } from "@strata/graph";
import { imageFromStore } from "@strata/oci";
import { unmountAllUnder } from "../snapshot/index.ts";
import { diskUsage } from "./du.ts";
import { acquirePruneLock } from "./locks.ts";
import { listRefs } from "./refs.ts";
import type { Store } from "./store.ts";

/** Areas that only speed builds up: removing them loses cached work, never an image (name → depth of its entries). */
const CACHE_AREAS: Readonly<Record<string, number>> = { cache: 2, toc: 2, snapshots: 1, tmp: 1, logs: 1, explain: 1, statcache: 1, run: 1, git: 1 };
/** With --all, also these (the store is then empty), and the caches beside it in $STRATA_HOME. */
const ALL_AREAS: Readonly<Record<string, number>> = { ...CACHE_AREAS, refs: 1, "cache-mounts": 1 };
const HOME_CACHES = ["eval", "modules", "docker-contexts"];

export interface PruneOptions {
  /** Everything: named images, cache mounts and the module caches too. */
  readonly all?: boolean;
  /** With builds running: wait for them (default: prune nothing, and say so). */
  readonly wait?: boolean;
  /** `--filter until=24h`: only what was last written more than this many milliseconds ago. */
  readonly olderThanMs?: number;
  /** `--keep-storage SIZE`: remove the oldest entries first, until `$STRATA_HOME` uses at most this many bytes. */
  readonly keepStorage?: number;
  readonly signal?: AbortSignal;
  readonly onWait?: (pids: readonly number[]) => void;
}

export interface PruneResult {
  /** Disk space given back (allocated blocks). */
  readonly freedBytes: number;
  readonly removedBlobs: number;
  readonly removedEntries: number;
  /** Set when builds were running and nothing was pruned (no `wait`). */
  readonly skippedFor?: readonly number[];
}

interface Candidate {
  readonly path: string;
  readonly mtimeMs: number;
  readonly blob: boolean;
}

/**
 * `strata cache prune`, as `docker builder prune`: removes the build cache (cache records,
 * layer snapshots, tables of contents, temp files, logs) and every blob no named image
 * (`strata build -t`) uses; `all` also named images, cache mounts and module caches. It holds
 * the store's exclusive lock (locks.ts): while builds run it prunes nothing (or waits for
 * them), and builds that start meanwhile wait for it, so it never breaks one.
 */
export async function pruneStore(store: Store, opts: PruneOptions = {}): Promise<PruneResult> {
  const lock = await acquirePruneLock(store, { ...(opts.wait ? { wait: true } : {}), ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onWait ? { onWait: opts.onWait } : {}) });
  if ("busy" in lock) return { freedBytes: 0, removedBlobs: 0, removedEntries: 0, skippedFor: lock.busy };
  try {
    const home = dirname(store.root);
    const before = diskUsage(home).disk;
    await unmountAllUnder(store.path("tmp")).catch(() => {});
    let candidates = await listCandidates(store, opts.all === true);
    if (opts.olderThanMs !== undefined) {
      const cutoff = Date.now() - opts.olderThanMs;
      candidates = candidates.filter((c) => c.mtimeMs < cutoff);
    }
    let removedBlobs = 0;
    let removedEntries = 0;
    if (opts.keepStorage !== undefined) {
      // Oldest first, until the home fits.
      candidates.sort((a, b) => a.mtimeMs - b.mtimeMs);
      let used = before;
      for (const c of candidates) {
        if (used <= opts.keepStorage) break;
        used -= diskUsage(c.path).disk;
        remove(c.path);
        if (c.blob) removedBlobs++;
        else removedEntries++;
      }
    } else {
      for (const c of candidates) {
        remove(c.path);
        if (c.blob) removedBlobs++;
        else removedEntries++;
      }
      if (opts.olderThanMs === undefined) rmSync(join(store.root, "blobs", ".tmp"), { recursive: true, force: true, maxRetries: 5 });
    }
    for (const area of Object.keys(opts.all ? ALL_AREAS : CACHE_AREAS)) removeEmptyDirs(store.path(area));
    return { freedBytes: Math.max(0, before - diskUsage(home).disk), removedBlobs, removedEntries };
  } finally {
    lock.release();
  }
}

/** Removes the directories that pruning emptied (bottom-up; one still holding something stays). */
function removeEmptyDirs(dir: string): boolean {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return false;
  }
  let empty = true;
  for (const n of names) {
    const p = join(dir, n);
    let isDir = false;
    try {
      isDir = lstatSync(p).isDirectory();
    } catch {
      continue;
    }
    if (!isDir || !removeEmptyDirs(p)) empty = false;
  }
  if (!empty) return false;
  try {
    rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

/** rm -rf that retries what a filesystem reports transiently (ENOTEMPTY/EBUSY while a directory drains). */
function remove(path: string): void {
  rmSync(path, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
}

async function listCandidates(store: Store, all: boolean): Promise<Candidate[]> {
  const out: Candidate[] = [];
  const entriesOf = (dir: string, depth: number) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      if (depth > 1) {
        entriesOf(p, depth - 1);
        continue;
      }
      try {
        out.push({ path: p, mtimeMs: lstatSync(p).mtimeMs, blob: false });
      } catch {
        /* vanished */
      }
    }
  };
  for (const [area, depth] of Object.entries(all ? ALL_AREAS : CACHE_AREAS)) entriesOf(store.path(area), depth);
  if (all) for (const area of HOME_CACHES) entriesOf(join(dirname(store.root), area), 1);
  const keep = all ? new Set<string>() : await namedImageBlobs(store);
  entriesOf(store.path("blobs", "sha256"), 1);
  for (let i = out.length - 1; i >= 0; i--) {
    const c = out[i]!;
    if (dirname(c.path) !== store.path("blobs", "sha256")) continue;
    if (keep.has(c.path.slice(c.path.lastIndexOf("/") + 1))) out.splice(i, 1);
    else out[i] = { ...c, blob: true };
  }
  return out;
}

async function namedImageBlobs(store: Store): Promise<Set<string>> {
  const keep = new Set<string>();
  for (const ref of listRefs(store)) {
    try {
      const img = await imageFromStore(store.blobs, ref.manifest);
      keep.add(digestHex(img.manifestDigest));
      keep.add(digestHex(img.manifest.config.digest));
      for (const l of img.layers) {
        keep.add(digestHex(l.descriptor.digest));
        keep.add(digestHex(l.diffId));
      }
    } catch {
      /* a dangling name keeps nothing */
    }
  }
  return keep;
}
