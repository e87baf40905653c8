import { lstatSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { digestHex, StrataError, type Digest } from "@strata/graph";
import { imageFromStore } from "@strata/oci";
import { unmountAllUnder } from "../snapshot/index.ts";
import { liveBuilds } from "./locks.ts";
import { listRefs } from "./refs.ts";
import type { Store } from "./store.ts";

/** Areas that only speed builds up: removing them loses cached work, never an image. */
const CACHE_AREAS = ["cache", "toc", "snapshots", "tmp", "logs", "explain", "statcache", "run", "git"];

export interface PruneResult {
  readonly freedBytes: number;
  readonly removedBlobs: number;
}

/**
 * `strata cache prune`: removes the build cache (cache records, layer snapshots, tables of
 * contents, temp files, logs) and every blob no named image (`strata build -t`) uses.
 * `all`: also named images and cache mounts — the store is then empty. Refuses while another
 * build runs (a killed build's lock is stale and ignored).
 */
export async function pruneStore(store: Store, opts: { all?: boolean; force?: boolean } = {}): Promise<PruneResult> {
  const busy = liveBuilds(store);
  if (busy.length && !opts.force) {
    throw new StrataError("STRATA_STORE_BUSY", `a build is running (pid ${busy.join(", ")}) and uses the store`, { hint: "wait for it to finish, or pass --force" });
  }
  const before = totalBytes(store.root);
  await unmountAllUnder(store.path("tmp")).catch(() => {});
  for (const area of opts.all ? [...CACHE_AREAS, "refs", "cache-mounts", "blobs", "eval"] : CACHE_AREAS) store.removeArea(area);
  let removedBlobs = 0;
  if (!opts.all) {
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
    const dir = join(store.root, "blobs", "sha256");
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      /* no blobs */
    }
    for (const n of names) {
      if (keep.has(n)) continue;
      rmSync(join(dir, n), { force: true });
      removedBlobs++;
    }
    rmSync(join(store.root, "blobs", ".tmp"), { recursive: true, force: true });
  }
  return { freedBytes: Math.max(0, before - totalBytes(store.root)), removedBlobs };
}

function totalBytes(dir: string): number {
  let n = 0;
  const walk = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        try {
          n += lstatSync(p).size;
        } catch {
          /* vanished */
        }
      }
    }
  };
  walk(dir);
  return n;
}

export type { Digest };
