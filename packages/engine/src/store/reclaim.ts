import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { reclaimContainers, runtimeRoot } from "../executor/die-with-strata.ts";
import { which } from "../sandbox-util/command.ts";
import { isAlive, reclaimMemoryDirs } from "../sandbox-util/memory-dir.ts";
import { mountsUnder } from "../sandbox-util/mountinfo.ts";
import { unmountAllUnder } from "../snapshot/index.ts";
import type { Store } from "./store.ts";

/** What {@link reclaimDeadBuilds} removed (for tests and `--debug`). */
export interface Reclaimed {
  readonly containers: readonly string[];
  readonly mounts: readonly string[];
  readonly dirs: readonly string[];
}

/**
 * Cleans up after builds that were killed (SIGKILL, OOM, power loss leaves only the disk part):
 * their OCI runtime containers are killed and deleted, their overlay mounts unmounted, and their
 * work directories (upper directories, private cache copies) and memory directories (secret
 * files, runtime bundles) removed. Work directories carry their build's pid in their name
 * (`Store.tmpDir`, `memoryDir`, container ids), and nothing of a process that is still alive is
 * touched, so concurrent builds on one store are safe. Runs at the start of every build.
 */
export async function reclaimDeadBuilds(store: Store): Promise<Reclaimed> {
  const containers: string[] = [];
  for (const name of ["runc", "crun"] as const) {
    const root = runtimeRoot(store.path("run"), name);
    const bin = await which(name);
    if (bin) containers.push(...(await reclaimContainers(bin, root, isAlive)));
  }
  const mounts: string[] = [];
  const dirs: string[] = [];
  const tmp = store.path("tmp");
  let names: string[] = [];
  try {
    names = readdirSync(tmp);
  } catch {
    /* no work directories */
  }
  for (const n of names) {
    // `<prefix>-<pid>-<time>-<random>` (Store.tmpDir).
    const m = /-(\d+)-[0-9a-z]+-[0-9a-z]+$/.exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    const dir = join(tmp, n);
    mounts.push(...(await unmountAllUnder(dir).catch(() => [])));
    // Never delete through a mount that would not go away.
    if ((await mountsUnder(dir)).length > 0) continue;
    rmSync(dir, { recursive: true, force: true });
    dirs.push(dir);
  }
  dirs.push(...reclaimMemoryDirs());
  return { containers, mounts, dirs };
}
