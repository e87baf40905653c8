import { lstatSync, readdirSync, type Stats } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Store } from "./store.ts";

/** Space used under a path, counted as `du` counts it. */
export interface Usage {
  /** Files, directories and links. */
  readonly entries: number;
  /** Apparent size (the sum of lengths). */
  readonly bytes: number;
  /** Allocated blocks in bytes (what `du -B1` prints): what the disk gives back when it is removed. */
  readonly disk: number;
}

/**
 * Walks `path` (not following symlinks, not leaving its filesystem, each inode once across
 * calls sharing `seen`, as `du` counts hard links once), including the directories themselves.
 */
export function diskUsage(path: string, seen: Set<string> = new Set()): Usage {
  let entries = 0;
  let bytes = 0;
  let disk = 0;
  let dev: number | undefined;
  const visit = (p: string) => {
    let st: Stats;
    try {
      st = lstatSync(p);
    } catch {
      return; // vanished while counting
    }
    if (dev === undefined) dev = st.dev;
    else if (st.dev !== dev) return; // a mount (a running step's overlay): not the store's space
    const key = `${st.dev}:${st.ino}`;
    if (!seen.has(key)) {
      seen.add(key);
      entries++;
      bytes += st.size;
      disk += st.blocks * 512;
    }
    if (!st.isDirectory()) return;
    let names: string[];
    try {
      names = readdirSync(p);
    } catch {
      return;
    }
    for (const n of names) visit(join(p, n));
  };
  visit(path);
  return { entries, bytes, disk };
}

/** What each part of `$STRATA_HOME` holds, for `strata cache du`. */
export interface UsageRow extends Usage {
  readonly area: string;
  readonly description: string;
}

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  blobs: "layers, configs, manifests (images and cached steps)",
  cache: "cache records (step → layers)",
  toc: "layer tables of contents",
  snapshots: "layers extracted for RUN steps",
  "cache-mounts": "RUN --mount=type=cache directories",
  logs: "full logs of RUN steps",
  explain: "inputs of earlier builds (--explain)",
  statcache: "context file digests by stat",
  tmp: "work directories of builds",
  run: "runc state",
  git: "git sources",
  refs: "image names (-t)",
  locks: "locks of running builds",
  eval: "evaluated image modules",
  modules: "compiled image modules",
  "docker-contexts": "build contexts for --engine docker",
};

/**
 * Usage of every area of the store and of the caches beside it in `$STRATA_HOME` (the
 * evaluated and compiled modules, docker build contexts), and the total: the rows add up to
 * what `du -s -B1 $STRATA_HOME` reports (each inode counted once, directories included).
 */
export function storeUsage(store: Store): { home: string; rows: UsageRow[]; total: Usage } {
  const home = dirname(store.root);
  const seen = new Set<string>();
  const rows: UsageRow[] = [];
  const add = (area: string, path: string) => {
    const u = diskUsage(path, seen);
    if (u.entries) rows.push({ area, description: DESCRIPTIONS[area] ?? "", ...u });
  };
  const list = (dir: string) => {
    try {
      return readdirSync(dir).sort();
    } catch {
      return [];
    }
  };
  for (const name of list(store.root)) add(name, join(store.root, name));
  for (const name of list(home)) if (name !== basename(store.root)) add(name, join(home, name));
  // The directories holding the areas count too (as du counts them): the remainder row.
  const total = diskUsage(home, new Set());
  const counted = rows.reduce((n, r) => n + r.disk, 0);
  if (total.disk > counted) rows.push({ area: "(directories)", description: "the store's own directories", entries: 0, bytes: 0, disk: total.disk - counted });
  return { home, rows, total };
}
