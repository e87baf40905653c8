#!/usr/bin/env node
// Regenerates the golden files of packages/dockerfile/test/fixtures/<case>/:
//   dump.txt          BuildKit's Node.Dump() of the raw tree (dumpAst)
//   ast.json          toJson() of the parse, when there is no error diagnostic
//   diagnostics.json  the diagnostics, when there is at least one error
// Usage: node packages/dockerfile/scripts/update-fixtures.mjs [case-name-filter]
// Review the git diff afterwards: the goldens are the conformance suite.
import { readdirSync, readFileSync, writeFileSync, rmSync, existsSync, renameSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { loadPackageSource } from "../../../test/helpers/load-package-src.mjs";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "../test/fixtures");
const filter = process.argv[2] ?? "";
const df = await loadPackageSource(join(dirname(fileURLToPath(import.meta.url)), ".."));

function writeAtomic(path, text) {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

export function goldens(df, source) {
  const result = df.parseDockerfile(source);
  const hasError = result.diagnostics.some((d) => d.severity === "error");
  return {
    dump: `${df.dumpAst(result.ast)}\n`,
    json: hasError ? undefined : `${JSON.stringify(df.toJson(result), null, 2)}\n`,
    diagnostics: hasError ? `${JSON.stringify(result.diagnostics, null, 2)}\n` : undefined,
  };
}

let n = 0;
for (const name of readdirSync(fixtures).sort()) {
  if (!name.includes(filter)) continue;
  const dir = join(fixtures, name);
  const src = readFileSync(join(dir, "Dockerfile"));
  const g = goldens(df, src);
  writeAtomic(join(dir, "dump.txt"), g.dump);
  for (const [file, text] of [["ast.json", g.json], ["diagnostics.json", g.diagnostics]]) {
    const p = join(dir, file);
    if (text === undefined) {
      if (existsSync(p)) rmSync(p);
    } else writeAtomic(p, text);
  }
  n++;
}
console.log(`updated ${n} fixture(s) in ${fixtures}`);
