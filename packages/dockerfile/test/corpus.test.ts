// Every real-world Dockerfile of the shared corpus must parse without an error diagnostic
// (they all build with BuildKit). The corpus is read in place, never copied into the repo.
import { describe, expect, test } from "vitest";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dumpAst, parseDockerfile, toJson } from "../src/index.ts";
import { CORPUS_DIR } from "../../../test/helpers/corpus.ts";
import { missing } from "../../../test/helpers/requires.ts";

const CORPUS = CORPUS_DIR ?? "(no corpus)";
const present = existsSync(CORPUS);
const files = present ? readdirSync(CORPUS).filter((f) => f.endsWith(".Dockerfile")).sort() : [];

describe.skipIf(missing({ "the Dockerfile corpus (../shared/corpus/dockerfiles)": present }))(`corpus at ${CORPUS}`, () => {
  test("holds the expected real Dockerfiles", () => {
    expect(files.length).toBeGreaterThanOrEqual(200);
  });

  test.each(files)("%s parses with no error diagnostic", (f) => {
    const r = parseDockerfile(readFileSync(`${CORPUS}/${f}`));
    const errors = r.diagnostics.filter((d) => d.severity === "error");
    expect(errors).toEqual([]);
    expect(r.ast.stages.length).toBeGreaterThan(0);
    expect(dumpAst(r.ast).split("\n").length).toBe(r.ast.raw.length);
    expect(() => JSON.stringify(toJson(r))).not.toThrow();
  });
});
