// The conformance suite: each fixtures/<case>/Dockerfile against its goldens (dump.txt: the
// BuildKit Node.Dump() of the raw tree; ast.json or diagnostics.json). Regenerate with
// `node packages/dockerfile/scripts/update-fixtures.mjs` and review the diff.
import { describe, expect, test } from "vitest";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { dumpAst, parseDockerfile, toJson } from "../src/index.ts";

const dir = join(import.meta.dirname, "fixtures");
const cases = readdirSync(dir).sort();

test("the suite has at least 150 fixtures", () => {
  expect(cases.length).toBeGreaterThanOrEqual(150);
});

describe.each(cases)("%s", (name) => {
  const src = readFileSync(join(dir, name, "Dockerfile"));
  const result = parseDockerfile(src);
  const errors = result.diagnostics.filter((d) => d.severity === "error");

  test("dump matches BuildKit's Node.Dump format", () => {
    expect(`${dumpAst(result.ast)}\n`).toBe(readFileSync(join(dir, name, "dump.txt"), "utf8"));
  });

  test("typed AST / diagnostics match", () => {
    const astFile = join(dir, name, "ast.json");
    const diagFile = join(dir, name, "diagnostics.json");
    if (errors.length === 0) {
      expect(existsSync(diagFile)).toBe(false);
      expect(JSON.parse(JSON.stringify(toJson(result)))).toEqual(JSON.parse(readFileSync(astFile, "utf8")));
    } else {
      expect(existsSync(astFile)).toBe(false);
      expect(JSON.parse(JSON.stringify(result.diagnostics))).toEqual(JSON.parse(readFileSync(diagFile, "utf8")));
    }
  });

  test("every diagnostic points inside the file", () => {
    const lines = src.toString("utf8").split("\n").length;
    for (const d of result.diagnostics) {
      expect(d.span.start.line).toBeGreaterThanOrEqual(1);
      expect(d.span.start.line).toBeLessThanOrEqual(Math.max(lines, 1));
      expect(d.span.start.column).toBeGreaterThanOrEqual(1);
      // DF_… codes are the parser's own; STRATA_… ones are shared with the builders and the build (a port, a signal, a bound).
      expect(d.code).toMatch(/^(DF|STRATA)_[A-Z_]+$/);
    }
  });
});
