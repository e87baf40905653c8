// Golden fixtures: fixtures/<case>/Dockerfile is converted (with <case>/options.json when
// present) and must print exactly <case>/expected.image.ts, the code users will read.
// Regenerate with `node packages/codegen/scripts/update-fixtures.mjs [filter]` and review the diff.
// Each golden file also satisfies the three invariants: it type-checks, it evaluates to the
// Dockerfile's images (same digests), and its Dockerfile export imports back to them.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { generateImageModule, type GenerateOptions } from "../src/index.ts";
import { digestMismatches, exportMismatch, typeErrors } from "./helpers/invariants.ts";

const dir = join(import.meta.dirname, "fixtures");
const cases = readdirSync(dir).filter((n) => existsSync(join(dir, n, "Dockerfile"))).sort();

function optionsOf(name: string): GenerateOptions {
  const p = join(dir, name, "options.json");
  return { file: "Dockerfile", ...(existsSync(p) ? (JSON.parse(readFileSync(p, "utf8")) as GenerateOptions) : {}) };
}

test("the suite has at least 30 fixtures", () => {
  expect(cases.length).toBeGreaterThanOrEqual(30);
});

describe.each(cases)("%s", (name) => {
  const dockerfile = readFileSync(join(dir, name, "Dockerfile"));
  const expected = readFileSync(join(dir, name, "expected.image.ts"), "utf8");
  const generated = generateImageModule(dockerfile, optionsOf(name));

  test("prints the golden module, the same way every time", () => {
    expect(generated.source).toBe(expected);
    expect(generateImageModule(dockerfile, optionsOf(name)).source).toBe(generated.source);
  });

  test("the golden module gives every stage the Dockerfile's digest, and exports back to it", () => {
    const { mismatches, targets } = digestMismatches(generated, expected);
    expect(mismatches).toEqual([]);
    for (const exportName of targets.keys()) expect(exportMismatch(targets, exportName), exportName).toBeUndefined();
  });
});

test("every golden module type-checks (strata check, the repository's strict options)", async () => {
  const sources = new Map(cases.map((n) => [n, readFileSync(join(dir, n, "expected.image.ts"), "utf8")] as const));
  expect(await typeErrors(sources)).toEqual([]);
});

test("CRLF line endings and a byte-order mark change nothing but the bytes read", () => {
  const failures: string[] = [];
  for (const name of cases) {
    const lf = readFileSync(join(dir, name, "Dockerfile"), "utf8");
    const crlf = `\ufeff${lf.replace(/\n/g, "\r\n")}`;
    const g = generateImageModule(crlf, optionsOf(name));
    failures.push(...digestMismatches(g).mismatches.map((m) => `${name}: ${m}`));
    // Heredoc bodies keep their carriage returns (they are file contents); everything else reads the same.
    if (!lf.includes("<<") && g.source !== readFileSync(join(dir, name, "expected.image.ts"), "utf8")) failures.push(`${name}: different module`);
  }
  expect(failures).toEqual([]);
});
