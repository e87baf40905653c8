import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { memoryBase, reclaimMemoryDirs } from "../src/sandbox-util/memory-dir.ts";
import { reclaimDeadBuilds } from "../src/store/reclaim.ts";
import { Store } from "../src/store/store.ts";

const home = mkdtempSync(join(tmpdir(), "strata-reclaim-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** A pid that existed a moment ago and is gone now. */
function deadPid(): number {
  return Number(spawnSync("/bin/sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim());
}

describe("reclaiming what killed builds left", () => {
  it("removes the memory and work directories of dead processes, never those of a live one", async () => {
    const dead = deadPid();
    const live = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      const base = memoryBase();
      const deadMem = join(base, `strata-secrets-${dead}-Ab12Cd`);
      const liveMem = join(base, `strata-run-${live.pid}-Ef34Gh`);
      for (const d of [deadMem, liveMem]) {
        mkdirSync(d, { recursive: true });
        writeFileSync(join(d, "f"), "x");
      }
      const store = new Store(home);
      const deadTmp = store.path("tmp", `run-0123456789ab-${dead}-mx9abcde-a1b2c3`);
      const liveTmp = store.path("tmp", `run-0123456789ab-${live.pid}-mx9abcde-a1b2c3`);
      for (const d of [deadTmp, liveTmp]) mkdirSync(join(d, "upper"), { recursive: true });
      const r = await reclaimDeadBuilds(store);
      expect(r.dirs).toContain(deadTmp);
      expect(r.dirs).toContain(deadMem);
      expect(existsSync(deadMem) || existsSync(deadTmp)).toBe(false);
      expect(existsSync(liveMem) && existsSync(liveTmp)).toBe(true);
      expect(reclaimMemoryDirs()).not.toContain(liveMem);
      rmSync(liveMem, { recursive: true, force: true });
    } finally {
      live.kill("SIGKILL");
    }
  });

  it("the store's version root is private to its owner", () => {
    const store = new Store(join(home, "perm"));
    expect(spawnSync("stat", ["-c", "%a", store.root], { encoding: "utf8" }).stdout.trim()).toBe("700");
  });
});
