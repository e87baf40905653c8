// The three invariants over the real-world corpus (/work/shared/corpus/dockerfiles, read in
// place): for every Dockerfile D, the generated module (1) type-checks, (2) gives every stage of
// D the digest the importer gives it (default export and named exports), (3) exports back to a
// Dockerfile that imports to the same digest. Generation is also deterministic.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { generateImageModule, type GeneratedModule } from "../src/index.ts";
import { digestMismatches, exportMismatch, typeErrors } from "./helpers/invariants.ts";
import { CORPUS_DIR } from "../../../test/helpers/corpus.ts";
import { missing } from "../../../test/helpers/requires.ts";

const CORPUS = CORPUS_DIR ?? "(no corpus)";
const files = existsSync(CORPUS) ? readdirSync(CORPUS).filter((f) => f.endsWith(".Dockerfile")).sort() : [];

describe.skipIf(missing({ "the Dockerfile corpus (../shared/corpus/dockerfiles)": files.length > 0 }))("corpus: Dockerfile → .image.ts", () => {
  const generated = new Map<string, GeneratedModule>();

  test("every Dockerfile converts, and converting twice gives the same bytes", () => {
    const failures: string[] = [];
    for (const f of files) {
      const text = readFileSync(join(CORPUS, f));
      try {
        const g = generateImageModule(text, { file: f });
        generated.set(f, g);
        if (generateImageModule(text, { file: f }).source !== g.source) failures.push(`${f}: not deterministic`);
      } catch (e) {
        failures.push(`${f}: ${(e as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
    expect(generated.size).toBe(files.length);
  });

  test("(2) every stage's export has the Dockerfile's digest; (3) every export round-trips through a Dockerfile", () => {
    const failures: string[] = [];
    let stages = 0;
    let exports = 0;
    for (const [f, g] of generated) {
      const { mismatches, targets } = digestMismatches(g);
      failures.push(...mismatches.map((m) => `${f}: ${m}`));
      stages += g.targets.length;
      for (const name of targets.keys()) {
        exports++;
        const bad = exportMismatch(targets, name);
        if (bad !== undefined) failures.push(`${f}: export ${name} does not round-trip:\n${bad}`);
      }
    }
    expect(failures).toEqual([]);
    // 247 files with several stages each; the count guards against a vacuous pass.
    expect(stages).toBeGreaterThanOrEqual(files.length);
    expect(exports).toBeGreaterThanOrEqual(files.length);
  });

  test("(1) every generated module type-checks, in one program", async () => {
    expect(generated.size).toBe(files.length);
    const sources = new Map([...generated].map(([f, g]) => [f.replace(/\.Dockerfile$/, ""), g.source] as const));
    expect(await typeErrors(sources)).toEqual([]);
  });
});
