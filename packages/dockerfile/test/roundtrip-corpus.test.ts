import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { importDockerfile, pickStage } from "../src/import/import-dockerfile.ts";
import { exportDockerfile } from "../src/export/export-dockerfile.ts";
import { CORPUS_DIR } from "../../../test/helpers/corpus.ts";
import { missing } from "../../../test/helpers/requires.ts";

const CORPUS = CORPUS_DIR ?? "(no corpus)";
const files = existsSync(CORPUS) ? readdirSync(CORPUS).filter((f) => f.endsWith(".Dockerfile") || /Dockerfile/.test(f)).filter((f) => f !== "MANIFEST.tsv").sort() : [];

/**
 * The round-trip invariant over the real-world corpus: for every Dockerfile D and every stage,
 * digest(import(D)) == digest(import(export(import(D)))), and export is idempotent.
 */
describe.skipIf(missing({ "the Dockerfile corpus (../shared/corpus/dockerfiles)": files.length > 0 }))("corpus round trip", () => {
  test.each(files)("%s", (name) => {
    const text = readFileSync(join(CORPUS, name));
    const a = importDockerfile(text, { file: name });
    for (const s of a.stages) {
      const g = s.image.toGraph();
      const out = exportDockerfile(g, { targetName: s.name });
      const b = importDockerfile(out.dockerfile, { file: `${name}.exported` });
      const again = pickStage(b, undefined).image.toGraph();
      expect(again.digest, `stage ${s.name ?? s.index}:\n${out.dockerfile}`).toBe(g.digest);
      expect(exportDockerfile(again, { targetName: s.name }).dockerfile).toBe(out.dockerfile);
    }
  });
});
