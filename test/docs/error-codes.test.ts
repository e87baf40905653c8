import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ERROR_CODES, errorMeaning } from "@strata/graph";
import { describe, expect, test } from "vitest";
import { REPO } from "../helpers/cli.ts";

/**
 * The error-code registry (packages/graph/src/error-codes.ts) is the one list of codes: every
 * code a source throws is in it, every entry is thrown somewhere, and the README's table is
 * generated from it. `STRATA_UPDATE_DOCS=1 pnpm vitest run test/docs` rewrites the README table.
 */
const TABLE_FILE = join(REPO, "packages", "graph", "src", "error-codes.ts");
const START = "<!-- error-codes:start (generated from packages/graph/src/error-codes.ts by test/docs) -->";
const END = "<!-- error-codes:end -->";

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") && p !== TABLE_FILE) out.push(p);
  }
  return out;
}

const roots = [...readdirSync(join(REPO, "packages")).map((p) => join(REPO, "packages", p, "src")), join(REPO, "images", "src")];
const sources = roots.flatMap((r) => sourceFiles(r)).map((f) => ({ file: f.slice(REPO.length + 1), text: readFileSync(f, "utf8") }));
const CODE = /["'`]((?:STRATA|DF)_[A-Z0-9_]*[A-Z0-9])["'`]/g;
/** Environment variables Strata reads: their names look like codes but are not. */
const ENVIRONMENT = new Set(["STRATA_HOME", "STRATA_DOCKER", "STRATA_NO_EVAL_CACHE", "STRATA_MAX_WORD_BYTES", "STRATA_MAX_LAYER_BYTES", "STRATA_MAX_LAYER_ENTRIES", "STRATA_REGISTRY_DEADLINE", "STRATA_REGISTRY_MIN_RATE", "STRATA_REGISTRY_RETRY_AFTER_MAX"]);

export function errorTable(): string {
  const rows = Object.entries(ERROR_CODES).map(([code, meaning]) => `| \`${code}\` | ${meaning.replace(/\|/g, "\\|")} |`);
  return [START, "| code | meaning |", "| --- | --- |", ...rows, `| \`STRATA_SYSTEM_<ERRNO>\` | ${errorMeaning("STRATA_SYSTEM_X")!.replace(" X", " that errno")} |`, `| \`DF_LINT_<RULE>\` | ${errorMeaning("DF_LINT_X")} |`, `| \`TS<number>\` | ${errorMeaning("TS1")} |`, END].join("\n");
}

describe("error codes", () => {
  test("every code a source uses is in the registry", () => {
    const unknown: string[] = [];
    for (const s of sources) for (const m of s.text.matchAll(CODE)) if (!ENVIRONMENT.has(m[1]!) && errorMeaning(m[1]!) === undefined) unknown.push(`${s.file}: ${m[1]}`);
    expect(unknown).toEqual([]);
  });

  test("every registry entry is used by some source", () => {
    const all = sources.map((s) => s.text).join("\n");
    const unused = Object.keys(ERROR_CODES).filter((c) => !all.includes(`"${c}"`));
    expect(unused).toEqual([]);
  });

  test("the README's error table is generated from the registry", () => {
    const readmePath = join(REPO, "README.md");
    const readme = readFileSync(readmePath, "utf8");
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    expect(start, "README.md lacks the generated error table markers").toBeGreaterThanOrEqual(0);
    const current = readme.slice(start, end + END.length);
    const wanted = errorTable();
    if (current !== wanted && process.env.STRATA_UPDATE_DOCS === "1") writeFileSync(readmePath, readme.slice(0, start) + wanted + readme.slice(end + END.length));
    else expect(current).toBe(wanted);
  });
});
