#!/usr/bin/env node
// Dockerfile → .image.ts conversion throughput (@strata/codegen's generateImageModule: parse,
// import, build the module with ts-morph, format) over the shared corpus, in one process after
// a warm-up. Prints Dockerfiles/s and the slowest files; the verification `strata import` adds
// (bundling and evaluating the module) is not part of this figure.
//
//   node bench/codegen.mjs            (standalone)
//   import { run } from "./codegen.mjs"; await run()   (from bench/run.mjs; returns the figures)
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

function loadInputs() {
  const corpus = process.env.STRATA_DOCKERFILE_CORPUS ?? [new URL("../../shared/corpus/dockerfiles", import.meta.url).pathname, "/work/shared/corpus/dockerfiles"].find((d) => existsSync(d)) ?? "/work/shared/corpus/dockerfiles";
  if (!existsSync(corpus)) return [];
  return readdirSync(corpus)
    .filter((f) => f.endsWith(".Dockerfile"))
    .sort()
    .map((f) => ({ name: f, text: readFileSync(join(corpus, f), "utf8") }));
}

export async function run({ rounds = 3, log = true } = {}) {
  const inputs = loadInputs();
  if (!inputs.length) {
    if (log) console.log("codegen bench: no corpus found (set STRATA_DOCKERFILE_CORPUS); skipped");
    return { files: 0 };
  }
  const { loadPackageSource } = await import(pathToFileURL(join(root, "test/helpers/load-package-src.mjs")).href);
  const codegen = await loadPackageSource(join(root, "packages/codegen"), { external: ["ts-morph"] });
  const bytes = inputs.reduce((n, i) => n + Buffer.byteLength(i.text), 0);
  // Warm-up: JIT, and ts-morph's compiler host and formatter are created on first use.
  for (const i of inputs.slice(0, 20)) codegen.generateImageModule(i.text, { file: i.name });
  const perFile = new Map(inputs.map((i) => [i.name, Infinity]));
  let outBytes = 0;
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (const i of inputs) {
      const s = performance.now();
      const { source } = codegen.generateImageModule(i.text, { file: i.name });
      perFile.set(i.name, Math.min(perFile.get(i.name), performance.now() - s));
      if (r === 0) outBytes += Buffer.byteLength(source);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const files = inputs.length * rounds;
  const slowest = [...perFile].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([name, ms]) => ({ name, ms }));
  const result = { files: inputs.length, rounds, bytes, outBytes, filesPerSecond: files / seconds, mbPerSecond: (bytes * rounds) / 1e6 / seconds, slowest };
  if (log) {
    console.log(`codegen bench: ${inputs.length} Dockerfiles (${(bytes / 1024).toFixed(0)} KiB) → ${(outBytes / 1024).toFixed(0)} KiB of .image.ts, ${rounds} rounds`);
    console.log(`  ${result.filesPerSecond.toFixed(0)} Dockerfiles/s, ${result.mbPerSecond.toFixed(2)} MB/s`);
    for (const s of slowest) console.log(`  slowest: ${s.ms.toFixed(1)} ms  ${s.name}`);
  }
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await run();
