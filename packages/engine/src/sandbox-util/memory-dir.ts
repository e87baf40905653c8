import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Where files that may hold a secret live while a step runs (secret mounts, the runtime bundle
 * with the step's environment, the sandbox script): a memory file system, so nothing of them
 * reaches a disk. /dev/shm is a tmpfs on every Linux distribution; the OS temp directory is the
 * fallback only where it is missing.
 */
export function memoryBase(): string {
  return existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
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
