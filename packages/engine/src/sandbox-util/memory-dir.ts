import { existsSync, mkdtempSync, readdirSync, rmSync, statfsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** statfs(2) magic numbers of memory file systems. */
const TMPFS_MAGIC = 0x01021994;
const RAMFS_MAGIC = 0x858458f6;

let base: string | undefined;

/**
 * Where files that may hold a secret live while a step runs (secret mounts, the runtime bundle
 * with the step's environment, the sandbox script): a memory file system, so nothing of them
 * reaches a disk. /dev/shm is a tmpfs on every Linux distribution; /run (and the user's runtime
 * directory) usually is too. The OS temp directory is the last resort only where none is.
 */
export function memoryBase(): string {
  base ??= ["/dev/shm", `/run/user/${process.getuid?.() ?? 0}`, "/run"].find((d) => isMemoryFs(d)) ?? tmpdir();
  return base;
}

function isMemoryFs(dir: string): boolean {
  try {
    if (!existsSync(dir)) return false;
    const t = statfsSync(dir).type;
    return t === TMPFS_MAGIC || t === RAMFS_MAGIC;
  } catch {
    return false;
  }
}

/** A fresh 0700 directory `strata-<kind>-<pid>-XXXXXX` on {@link memoryBase}; the pid lets a later build reclaim it. */
export function memoryDir(kind: string): string {
  return mkdtempSync(join(memoryBase(), `strata-${kind}-${process.pid}-`));
}

/**
 * Removes the memory directories of processes that are gone (a build killed with SIGKILL cannot
 * remove its own): never those of a live process. Returns the directories removed.
 */
export function reclaimMemoryDirs(): string[] {
  const base = memoryBase();
  const out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return out;
  }
  for (const n of names) {
    const m = /^strata-[a-z]+-(\d+)-[A-Za-z0-9]{6}$/.exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    rmSync(join(base, n), { recursive: true, force: true });
    out.push(join(base, n));
  }
  return out;
}

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
