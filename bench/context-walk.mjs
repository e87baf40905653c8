// The build context's walk and a no-op digest pass over 20,200 entries (200 directories of 100
// files), with a warm stat cache: what a rebuild with an unchanged context costs before any
// step runs. The unit test (packages/engine/test/context-snapshot.test.ts) asserts that the
// no-op pass reads no file content; this prints how long it takes.
//
//   node bench/context-walk.mjs
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { median, printTable, REPO } from "./lib.mjs";

export async function run({ dirs = 200, perDir = 100, runs = 5 } = {}) {
  const work = mkdtempSync(join(tmpdir(), "strata-bench-walk-"));
  try {
    const bundle = join(work, "snapshot.mjs");
    await build({ entryPoints: [join(REPO, "packages/engine/src/context/snapshot.ts")], bundle: true, platform: "node", format: "esm", outfile: bundle, logLevel: "silent" });
    const { snapshotContext } = await import(pathToFileURL(bundle).href);
    const root = join(work, "ctx");
    for (let d = 0; d < dirs; d++) {
      mkdirSync(join(root, `d${d}`), { recursive: true });
      for (let f = 0; f < perDir; f++) writeFileSync(join(root, `d${d}`, `f${f}.txt`), `${d}-${f}\n`);
    }
    const cache = join(work, "statcache");
    const warm = snapshotContext(root, { ignoreFile: false, statCache: cache, racyWindowMs: -60_000 });
    for (const e of warm.entries) if (e.type === "file") warm.digestOfSync(e);
    warm.saveStatCache();
    const walks = [];
    const noops = [];
    let entries = 0;
    for (let i = 0; i < runs; i++) {
      let t = performance.now();
      const snap = snapshotContext(root, { ignoreFile: false, statCache: cache });
      walks.push(performance.now() - t);
      t = performance.now();
      for (const e of snap.entries) if (e.type === "file") await snap.digestOf(e);
      noops.push(performance.now() - t);
      entries = snap.entries.length;
      if (snap.stats.misses !== 0) throw new Error(`the no-op pass read ${snap.stats.misses} files`);
    }
    const rows = [
      { measure: `walk of ${entries} entries`, median: `${median(walks).toFixed(0)} ms`, best: `${Math.min(...walks).toFixed(0)} ms` },
      { measure: "no-op digest pass (stat cache)", median: `${median(noops).toFixed(0)} ms`, best: `${Math.min(...noops).toFixed(0)} ms` },
    ];
    printTable(`build context, ${dirs * perDir} files (${runs} runs)`, rows);
    return rows;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
