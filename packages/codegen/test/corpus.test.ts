// The acceptance invariants over the real-world corpus (/work/shared/corpus/dockerfiles, read in
// place): for every Dockerfile D, the generated module (1) type-checks, (2) gives every stage of
// D the digest the importer gives it (default export and named exports), (3) exports back to a
// Dockerfile that imports to the same digest, (4) keeps every comment of D, (5) has no code line
// over 160 characters outside string literals and comments; (6) normalising D as a whole keeps every stage's
// digest and every comment. Generation is also deterministic. The files are split into batches,
// one test each (one type-check program per batch), so the suite runs in parallel-friendly pieces.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ts } from "ts-morph";
import { describe, expect, test } from "vitest";
import { importDockerfile, normalizeDockerfile } from "@strata/dockerfile";
import { generateImageModule } from "../src/index.ts";
import { digestMismatches, exportMismatch, typeErrors } from "./helpers/invariants.ts";
import { CORPUS_DIR } from "../../../test/helpers/corpus.ts";
import { missing } from "../../../test/helpers/requires.ts";

const CORPUS = CORPUS_DIR ?? "(no corpus)";
const files = existsSync(CORPUS) ? readdirSync(CORPUS).filter((f) => f.endsWith(".Dockerfile")).sort() : [];

const BATCHES = 12;
const batches = Array.from({ length: BATCHES }, (_, i) => files.filter((_, j) => j % BATCHES === i)).filter((b) => b.length);

const MAX_CODE_LINE = 160;

/** Lines whose code (everything but string and template literal text and comments) is longer than the limit. */
function longCodeLines(source: string): string[] {
  const literal = new Uint8Array(source.length);
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, source);
  const braces: boolean[] = [];
  for (let k = scanner.scan(); k !== ts.SyntaxKind.EndOfFileToken; k = scanner.scan()) {
    if (k === ts.SyntaxKind.OpenBraceToken) braces.push(false);
    if (k === ts.SyntaxKind.TemplateHead) braces.push(true);
    if (k === ts.SyntaxKind.CloseBraceToken && braces.pop()) k = scanner.reScanTemplateToken(false);
    const isLiteral = k === ts.SyntaxKind.StringLiteral || k === ts.SyntaxKind.NoSubstitutionTemplateLiteral || k === ts.SyntaxKind.TemplateHead || k === ts.SyntaxKind.TemplateMiddle || k === ts.SyntaxKind.TemplateTail;
    if (k === ts.SyntaxKind.TemplateMiddle) braces.push(true);
    if (isLiteral) literal.fill(1, scanner.getTokenStart() + 1, scanner.getTokenEnd() - 1);
    // A comment is the Dockerfile's text, kept as written.
    if (k === ts.SyntaxKind.SingleLineCommentTrivia || k === ts.SyntaxKind.MultiLineCommentTrivia) literal.fill(1, scanner.getTokenStart(), scanner.getTokenEnd());
  }
  const out: string[] = [];
  let start = 0;
  source.split("\n").forEach((line, i) => {
    let code = 0;
    for (let c = 0; c < line.length; c++) if (!literal[start + c]) code++;
    if (code > MAX_CODE_LINE) out.push(`line ${i + 1} (${code} code characters): ${line.slice(0, 80)}…`);
    start += line.length + 1;
  });
  return out;
}

/** The text of every comment line of a Dockerfile (directives and heredoc bodies excepted). */
function dockerfileComments(text: string): string[] {
  const imported = importDockerfile(text);
  const lines = text.replace(/^\ufeff/, "").split("\n").map((l) => l.replace(/\r$/, ""));
  const inHeredoc = new Set<number>();
  const firstInstruction = Math.min(...[...imported.ast.globalArgs.map((a) => a.span.start.line), ...imported.ast.stages.map((s) => s.from.span.start.line)]);
  for (const s of imported.ast.stages) {
    for (const ins of [s.from, ...s.instructions]) {
      if ("heredocs" in ins && ins.heredocs.length) for (let l = ins.span.start.line + 1; l <= ins.span.end.line; l++) inHeredoc.add(l);
    }
  }
  const out: string[] = [];
  lines.forEach((l, i) => {
    const line = i + 1;
    const t = l.trim();
    if (!t.startsWith("#") || inHeredoc.has(line)) return;
    if (line < firstInstruction && /^#\s*(syntax|escape|check)\s*=/i.test(t)) return;
    const body = t.slice(1).trim();
    if (body) out.push(body);
  });
  return out;
}

describe.skipIf(missing({ "the Dockerfile corpus (../shared/corpus/dockerfiles)": files.length > 0 }))("corpus: Dockerfile → .image.ts → Dockerfile", () => {
  test("the batches cover every corpus file", () => {
    expect(batches.flat().sort()).toEqual(files);
    expect(files.length).toBeGreaterThanOrEqual(200);
  });

  test.each(batches.map((b, i) => [i + 1, b] as const))("batch %i", async (_n, batch) => {
    const failures: string[] = [];
    const sources = new Map<string, string>();
    for (const f of batch) {
      const text = readFileSync(join(CORPUS, f), "utf8");
      let g: ReturnType<typeof generateImageModule>;
      try {
        g = generateImageModule(text, { file: f });
      } catch (e) {
        failures.push(`${f}: ${(e as Error).message}`);
        continue;
      }
      if (generateImageModule(text, { file: f }).source !== g.source) failures.push(`${f}: not deterministic`);
      sources.set(f.replace(/\.Dockerfile$/, ""), g.source);
      // (2) and (3)
      const { mismatches, targets } = digestMismatches(g);
      failures.push(...mismatches.map((m) => `${f}: ${m}`));
      for (const name of targets.keys()) {
        const bad = exportMismatch(targets, name);
        if (bad !== undefined) failures.push(`${f}: export ${name} does not round-trip`);
      }
      // (4) every comment is in the module, (5) no long code line
      for (const c of dockerfileComments(text)) if (!g.source.includes(c)) failures.push(`${f}: comment lost: # ${c}`);
      failures.push(...longCodeLines(g.source).map((l) => `${f}: ${l}`));
      // (6) the whole file normalised: every named stage keeps its digest, every comment stays
      try {
        const normal = normalizeDockerfile(g.imported, text);
        const back = importDockerfile(normal.dockerfile, { file: `${f}.normalized` });
        for (const s of g.imported.stages) {
          if (s.name === undefined) continue;
          if (back.stages.find((b) => b.name === s.name)?.image.digest !== s.image.digest) failures.push(`${f}: normalising changed stage ${s.name}`);
        }
        if (back.stages.at(-1)?.image.digest !== g.imported.stages.at(-1)?.image.digest) failures.push(`${f}: normalising changed the last stage`);
        for (const c of dockerfileComments(text)) if (!normal.dockerfile.includes(c)) failures.push(`${f}: normalising lost comment # ${c}`);
      } catch (e) {
        failures.push(`${f}: normalising failed: ${(e as Error).message}`);
      }
    }
    // (1) one type-check program for the batch
    failures.push(...(await typeErrors(sources)));
    expect(failures).toEqual([]);
    expect(sources.size).toBe(batch.length);
  }, 240_000);
});
