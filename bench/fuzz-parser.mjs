#!/usr/bin/env node
// Fuzzes @strata/dockerfile's public API: random bytes and mutated real Dockerfiles (the shared
// corpus and the parser fixtures). Nothing may throw out of parseDockerfile / dumpAst / toJson,
// and no input may reach the parser's internal-error fallback (DF_INTERNAL). Shell-word
// functions may throw only their documented ShellError.
//
//   node bench/fuzz-parser.mjs [count=100000] [seed=1]
//
// The CI part is packages/dockerfile/test/fuzz.test.ts (5,000 inputs through the same code).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** mulberry32: a small seeded PRNG, so a failing input can be replayed from its seed. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = [
  "\\\n", "\\", "`", "\n", "\r\n", "\r", " ", "\t", "\ufeff", '"', "'", "$", "${", "}", "${A:-", "${A#", "${A//", "[", "]", '["a", ', "<<EOF\n",
  "<<-EOF", "EOF\n", "\tEOF\n", "<<'X'", "--mount=", "--mount=type=cache,target=/a", "--from=", "--", "--network=none", "# escape=`\n", "# syntax=x\n",
  "# check=error=true\n", "FROM a\n", "RUN ", "COPY ", "ADD ", "ENV ", "ARG ", "ONBUILD ", "HEALTHCHECK ", "LABEL ", "=", ",", "#", "\u0000", "\u00a0", "🐳",
];

/** Texts to mutate: the shared corpus (if present) and the parser fixtures. */
export function seedTexts() {
  const texts = [];
  const corpus = process.env.STRATA_DOCKERFILE_CORPUS ?? [new URL("../../shared/corpus/dockerfiles", import.meta.url).pathname, "/work/shared/corpus/dockerfiles"].find((d) => existsSync(d)) ?? "/work/shared/corpus/dockerfiles";
  if (existsSync(corpus)) for (const f of readdirSync(corpus)) if (f.endsWith(".Dockerfile")) texts.push(readFileSync(join(corpus, f), "utf8"));
  const fx = join(root, "packages/dockerfile/test/fixtures");
  if (existsSync(fx)) for (const d of readdirSync(fx)) texts.push(readFileSync(join(fx, d, "Dockerfile"), "utf8"));
  return texts;
}

function mutate(text, rand, others) {
  let s = text;
  const n = 1 + Math.floor(rand() * 6);
  for (let k = 0; k < n; k++) {
    const pos = Math.floor(rand() * (s.length + 1));
    const op = Math.floor(rand() * 7);
    if (op === 0) s = s.slice(0, pos) + TOKENS[Math.floor(rand() * TOKENS.length)] + s.slice(pos);
    else if (op === 1) s = s.slice(0, pos) + s.slice(pos + Math.floor(rand() * 40));
    else if (op === 2) s = s.slice(0, pos) + String.fromCharCode(Math.floor(rand() * 0x250)) + s.slice(pos + 1);
    else if (op === 3) {
      const o = others[Math.floor(rand() * others.length)] ?? "";
      const a = Math.floor(rand() * o.length);
      s = s.slice(0, pos) + o.slice(a, a + Math.floor(rand() * 200)) + s.slice(pos);
    } else if (op === 4) s = s.slice(0, pos) + s.slice(Math.max(0, pos - 30), pos) + s.slice(pos);
    else if (op === 5) s = `${s.slice(0, pos)}\n${s.slice(pos)}`;
    else s = s.slice(0, pos) + s.slice(pos).toLowerCase();
  }
  return s;
}

/** The i-th input of a run: a string or raw bytes. */
export function makeInput(i, seed, texts) {
  const rand = rng(seed * 1000003 + i);
  const kind = rand();
  if (kind < 0.15 || texts.length === 0) {
    const bytes = new Uint8Array(Math.floor(rand() * 600));
    for (let k = 0; k < bytes.length; k++) bytes[k] = rand() < 0.7 ? 32 + Math.floor(rand() * 95) : Math.floor(rand() * 256);
    return bytes;
  }
  if (kind < 0.25) {
    let s = "";
    const n = Math.floor(rand() * 40);
    for (let k = 0; k < n; k++) s += TOKENS[Math.floor(rand() * TOKENS.length)];
    return s;
  }
  const base = texts[Math.floor(rand() * texts.length)];
  return mutate(base, rand, texts);
}

/** Runs `count` inputs through the API of `df` (the package's module namespace). */
export function fuzz(df, { count = 100_000, seed = 1, texts = seedTexts() } = {}) {
  const failures = [];
  let bytes = 0;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const input = makeInput(i, seed, texts);
    bytes += input.length;
    try {
      const r = df.parseDockerfile(input);
      df.dumpAst(r.ast);
      JSON.stringify(df.toJson(r));
      const internal = r.diagnostics.find((d) => d.code === "DF_INTERNAL");
      if (internal) throw new Error(internal.message);
      // Words of the parse through the shell functions: only ShellError may come out.
      for (const ins of r.ast.instructions.slice(0, 3)) {
        const w = ins.original.slice(ins.keyword.length + 1);
        for (const f of [() => df.toTemplate(w), () => df.toTemplates(w), () => df.expandWords(w, {}), () => df.fromTemplate(w)]) {
          try {
            f();
          } catch (e) {
            if (!(e instanceof df.ShellError)) throw e;
          }
        }
      }
    } catch (e) {
      failures.push({ index: i, seed, error: e instanceof Error ? e.stack : String(e), input: typeof input === "string" ? input : Buffer.from(input).toString("base64") });
      if (failures.length >= 10) break;
    }
  }
  const ms = performance.now() - t0;
  return { count, seed, failures, ms, bytes };
}

async function main() {
  const count = Number(process.argv[2] ?? 100_000);
  const seed = Number(process.argv[3] ?? 1);
  const { loadPackageSource } = await import(pathToFileURL(join(root, "test/helpers/load-package-src.mjs")).href);
  const df = await loadPackageSource(join(root, "packages/dockerfile"));
  const r = fuzz(df, { count, seed });
  console.log(`fuzz-parser: ${r.count} inputs (seed ${r.seed}, ${(r.bytes / 1e6).toFixed(1)} MB) in ${(r.ms / 1000).toFixed(1)} s, ${r.failures.length} failure(s)`);
  for (const f of r.failures) console.log(JSON.stringify(f, null, 2));
  process.exitCode = r.failures.length ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
