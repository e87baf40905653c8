#!/usr/bin/env node
// Dockerfile parse throughput: @strata/dockerfile against the npm package `dockerfile-ast`
// over the same files (the shared corpus + the parser fixtures), in the same process, taking
// turns so machine noise hits both alike. Prints files/s, MB/s and the speed ratio.
//
//   node bench/parse.mjs            (standalone)
//   import { run } from "./parse.mjs"; await run()   (from bench/run.mjs; returns the figures)
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

function loadInputs() {
  const texts = [];
  const corpus = process.env.STRATA_DOCKERFILE_CORPUS ?? [new URL("../../shared/corpus/dockerfiles", import.meta.url).pathname, "/work/shared/corpus/dockerfiles"].find((d) => existsSync(d)) ?? "/work/shared/corpus/dockerfiles";
  if (existsSync(corpus)) for (const f of readdirSync(corpus).sort()) if (f.endsWith(".Dockerfile")) texts.push(readFileSync(join(corpus, f), "utf8"));
  const fx = join(root, "packages/dockerfile/test/fixtures");
  for (const d of readdirSync(fx).sort()) texts.push(readFileSync(join(fx, d, "Dockerfile"), "utf8"));
  return texts;
}

/** Parses every text `rounds` times; returns elapsed ms. `sink` keeps results alive. */
function pass(parse, texts, rounds) {
  let sink = 0;
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) for (const t of texts) sink += parse(t) ? 1 : 0;
  const ms = performance.now() - t0;
  if (sink < 0) console.log(sink);
  return ms;
}

export async function run({ seconds = 1.5, log = true } = {}) {
  const { loadPackageSource } = await import(pathToFileURL(join(root, "test/helpers/load-package-src.mjs")).href);
  const df = await loadPackageSource(join(root, "packages/dockerfile"));
  const require = createRequire(join(root, "package.json"));
  const { DockerfileParser } = require("dockerfile-ast");
  const texts = loadInputs();
  const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);

  const engines = {
    strata: (t) => df.parseDockerfile(t).ast.instructions.length + 1,
    "strata (no lint)": (t) => df.parseDockerfile(t, { lint: false }).ast.instructions.length + 1,
    "dockerfile-ast": (t) => DockerfileParser.parse(t).getInstructions().length + 1,
  };
  // Warm up (JIT), and size the rounds so each turn lasts ~seconds/4.
  const rounds = {};
  for (const [name, f] of Object.entries(engines)) {
    pass(f, texts, 3);
    const ms = pass(f, texts, 2) / 2;
    rounds[name] = Math.max(1, Math.round((seconds * 250) / Math.max(ms, 0.01)));
  }
  const total = Object.fromEntries(Object.keys(engines).map((k) => [k, { ms: 0, files: 0 }]));
  for (let turn = 0; turn < 4; turn++) {
    for (const [name, f] of Object.entries(engines)) {
      total[name].ms += pass(f, texts, rounds[name]);
      total[name].files += texts.length * rounds[name];
    }
  }
  const figures = {};
  for (const [name, t] of Object.entries(total)) {
    const s = t.ms / 1000;
    figures[name] = { filesPerSecond: t.files / s, mbPerSecond: (t.files / texts.length) * bytes / 1e6 / s };
  }
  const ratio = figures.strata.filesPerSecond / figures["dockerfile-ast"].filesPerSecond;
  const result = { files: texts.length, bytes, figures, ratio, goal: 3, meetsGoal: ratio >= 3 };
  if (log) {
    console.log(`parse bench: ${texts.length} Dockerfiles, ${(bytes / 1024).toFixed(0)} KiB per round`);
    for (const [name, f] of Object.entries(figures)) {
      console.log(`  ${name.padEnd(18)} ${f.filesPerSecond.toFixed(0).padStart(8)} files/s  ${f.mbPerSecond.toFixed(1).padStart(7)} MB/s`);
    }
    console.log(`  ratio strata / dockerfile-ast: ${ratio.toFixed(2)}x (goal >= 3x: ${ratio >= 3 ? "met" : "NOT met"})`);
  }
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await run();
