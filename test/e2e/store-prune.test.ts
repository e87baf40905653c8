import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { scratchProject, strata, strataAsync } from "../helpers/cli.ts";
import { busyboxLayout } from "../helpers/busybox.ts";

const isRoot = process.getuid?.() === 0;

// With root, a RUN step (snapshots, overlay mounts, logs, a cache mount); without, COPY only.
const MODULE = `import { cache, from, ociLayout } from "@strata/core";

const base = from(ociLayout("./busybox")).copy("input.txt", "/input.txt");
export default ${isRoot ? 'base.run("cat /input.txt > /out.txt && echo x >> /cache/x", { mounts: [cache("/cache", { id: "prune-race" })] })' : "base"};
`;

describe("the store never breaks a build: prune and builds share one lock protocol", () => {
  let dir: string;
  let home: string;
  const env = () => ({ STRATA_HOME: home });
  beforeAll(async () => {
    dir = scratchProject({ "app.image.ts": MODULE, "input.txt": "0\n" });
    await busyboxLayout(dir);
    home = mkdtempSync(join(tmpdir(), "buildx-prune-home-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  test("prune racing builds, 20 rounds: no build fails, no prune fails", async () => {
    for (let i = 0; i < 20; i++) {
      writeFileSync(join(dir, "input.txt"), `${i}\n`);
      const build = strataAsync(["build", "app.image.ts", "-t", "race:latest", "--progress", "plain"], { cwd: dir, env: env() });
      await new Promise((r) => setTimeout(r, (i * 37) % 400));
      const prune = strataAsync(["cache", "prune", ...(i % 2 ? ["--wait"] : [])], { cwd: dir, env: env() });
      const [b, p] = await Promise.all([build, prune]);
      expect(b.code, `round ${i}: ${b.stderr}`).toBe(0);
      expect(p.code, `round ${i}: ${p.stderr}`).toBe(0);
      expect(p.stderr).not.toMatch(/ENOTEMPTY|ENOENT|internal error/);
    }
    // The store is whole: a last build from what is left works.
    const last = strata(["build", "app.image.ts", "-o", "type=local,dest=last"], { cwd: dir, env: env() });
    expect(last.code, last.stderr).toBe(0);
  }, 300_000);

  test("prune skips while a build holds the store, and --wait waits for it", async () => {
    const locks = join(home, "v1", "locks");
    mkdirSync(locks, { recursive: true });
    // A live process holding a build lock stands for a running build; it "ends" when killed.
    const sleeper = spawn("sleep", ["60"]);
    writeFileSync(join(locks, `build-${sleeper.pid}-0a0a0a0a`), "");
    const skipped = strata(["cache", "prune"], { cwd: dir, env: env() });
    expect(skipped.code).toBe(0);
    expect(skipped.stderr).toContain(`pruned nothing: 1 build is running (pid ${sleeper.pid}); --wait waits for them`);
    const started = Date.now();
    const pending = strataAsync(["cache", "prune", "--wait"], { cwd: dir, env: env() });
    setTimeout(() => sleeper.kill(), 4000); // long after prune started waiting, even on a loaded machine
    const waited = await pending;
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.stderr).toContain(`waiting for 1 running build (pid ${sleeper.pid})`);
    expect(Date.now() - started).toBeGreaterThan(500);
    expect(waited.stdout).toMatch(/^freed /);
    // The dead build's lock is stale: removed, never blocking.
    expect(readdirSync(locks)).toEqual([]);
  });

  test("cache du counts everything: its total is du's, with a breakdown", () => {
    expect(strata(["build", "app.image.ts", "-t", "du:latest"], { cwd: dir, env: env() }).code).toBe(0);
    const r = strata(["cache", "du"], { cwd: dir, env: env() });
    expect(r.code).toBe(0);
    const total = Number(/\((\d+) bytes on disk/.exec(r.stdout)![1]);
    const du = Number(spawnSync("du", ["-s", "-B1", home], { encoding: "utf8" }).stdout.split("\t")[0]);
    expect(total).toBe(du);
    for (const area of ["blobs", "cache", "toc", "refs", ...(isRoot ? ["snapshots", "cache-mounts", "logs"] : [])]) expect(r.stdout).toMatch(new RegExp(`\\n  ${area} +[\\d.]+ (B|KiB|MiB)`));
  });

  test("--filter until=DURATION removes only older entries; --keep-storage the oldest first", () => {
    expect(strata(["build", "app.image.ts", "-t", "f:latest"], { cwd: dir, env: env() }).code).toBe(0);
    const cacheDir = join(home, "v1", "cache");
    const records = readdirSync(cacheDir, { recursive: true }).map(String).filter((f) => f.endsWith(".json"));
    expect(records.length).toBeGreaterThan(1);
    const old = new Date(Date.now() - 48 * 3600_000);
    utimesSync(join(cacheDir, records[0]!), old, old);
    const r = strata(["cache", "prune", "--filter", "until=24h"], { cwd: dir, env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\(1 cache entries, 0 blobs\)/);
    const left = readdirSync(cacheDir, { recursive: true }).map(String).filter((f) => f.endsWith(".json"));
    expect(left.sort()).toEqual(records.slice(1).sort());
    // A budget bigger than the store removes nothing; a tiny one removes every cache entry.
    expect(strata(["cache", "prune", "--keep-storage", "100GB"], { cwd: dir, env: env() }).stdout).toMatch(/\(0 cache entries, 0 blobs\)/);
    const tiny = strata(["cache", "prune", "--keep-storage", "1"], { cwd: dir, env: env() });
    expect(tiny.code).toBe(0);
    expect(existsSync(cacheDir) ? readdirSync(cacheDir, { recursive: true }).map(String).filter((f) => f.endsWith(".json")) : []).toEqual([]);
    // The named image survives every prune but --all.
    expect(strata(["build", "app.image.ts", "-o", "type=tar,dest=f.tar"], { cwd: dir, env: env() }).code).toBe(0);
    for (const bad of [["--filter", "until=soon"], ["--filter", "label=x"], ["--keep-storage", "lots"], ["--all", "--keep-storage", "1GB"], ["--reserved-space", "1GB"]]) {
      expect(strata(["cache", "prune", ...bad], { cwd: dir, env: env() }).code, bad.join(" ")).toBe(2);
    }
  });
});
