import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import type { Store } from "./store.ts";

/**
 * Builds announce themselves with a lock file (`locks/build-<pid>`) so `strata cache prune`
 * does not delete what a running build needs. A lock whose process is gone is stale and
 * ignored, so a killed build never blocks pruning.
 */
export function holdBuildLock(store: Store): () => void {
  const dir = store.path("locks");
  mkdirSync(dir, { recursive: true });
  const file = store.path("locks", `build-${process.pid}`);
  writeFileSync(file, String(Date.now()));
  return () => rmSync(file, { force: true });
}

export function liveBuilds(store: Store): number[] {
  let names: string[];
  try {
    names = readdirSync(store.path("locks"));
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const n of names) {
    const pid = Number(n.replace(/^build-/, ""));
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
      out.push(pid);
    } catch {
      rmSync(store.path("locks", n), { force: true });
    }
  }
  return out;
}
