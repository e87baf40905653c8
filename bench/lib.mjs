// Small helpers shared by the benchmarks: timing of whole commands, medians, tables.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");
export const STRATA = join(REPO, "packages/cli/bin/strata.js");

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
