// Small helpers shared by the benchmarks: timing of whole commands, medians, tables.
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");
export const STRATA = join(REPO, "packages/cli/bin/strata.js");

/**
 * Imports TypeScript sources in plain Node (20 cannot import .ts): `contents` is a module of
 * re-exports with paths relative to the repository, bundled by esbuild into a temporary file
 * inside the repository (so the external tar-stream resolves from its node_modules), imported,
 * and deleted.
 */
export async function importTypeScript(name, contents) {
  const outDir = join(REPO, "node_modules/.cache/strata-bench");
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, `${name}-${process.pid}.mjs`);
  await build({ stdin: { contents, resolveDir: REPO, loader: "ts" }, outfile, bundle: true, platform: "node", format: "esm", target: "node20", external: ["tar-stream"], logLevel: "warning" });
  try {
    return await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(outfile, { force: true });
  }
}

/** Runs a command `runs` times; returns the median wall time in seconds (and fails loudly). */
export function timeCommand(cmd, args, { runs = 5, env = {}, cwd = REPO, before } = {}) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    before?.(i);
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 1 << 28 });
    const t = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stderr}`);
    times.push(t);
  }
  return median(times);
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function printTable(title, rows) {
  console.log(`\n## ${title}`);
  const cols = Object.keys(rows[0] ?? {});
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  console.log(cols.map((c, i) => c.padEnd(width[i])).join("  "));
  for (const r of rows) console.log(cols.map((c, i) => String(r[c]).padEnd(width[i])).join("  "));
}

export const fmt = (s) => `${s.toFixed(3)} s`;
