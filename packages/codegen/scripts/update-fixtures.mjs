#!/usr/bin/env node
// Regenerates packages/codegen/test/fixtures/<case>/expected.image.ts from <case>/Dockerfile,
// converted with the options in <case>/options.json when present ({ "target", "ignore" }: the
// stage to export by default, the .dockerignore patterns). Review the git diff afterwards: the goldens are what users will read.
// Usage: node packages/codegen/scripts/update-fixtures.mjs [case-name-filter]
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { loadPackageSource } from "../../../test/helpers/load-package-src.mjs";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "../test/fixtures");
const filter = process.argv[2] ?? "";
const codegen = await loadPackageSource(join(dirname(fileURLToPath(import.meta.url)), ".."), { external: ["ts-morph"] });

/** The options a fixture is converted with (test/fixtures.test.ts reads them the same way). */
function fixtureOptions(dir) {
  const optionsPath = join(dir, "options.json");
  return { file: "Dockerfile", ...(existsSync(optionsPath) ? JSON.parse(readFileSync(optionsPath, "utf8")) : {}) };
}

let n = 0;
for (const name of readdirSync(fixtures).sort()) {
  if (!name.includes(filter)) continue;
  const dir = join(fixtures, name);
  const { source } = codegen.generateImageModule(readFileSync(join(dir, "Dockerfile")), fixtureOptions(dir));
  const out = join(dir, "expected.image.ts");
  writeFileSync(`${out}.tmp`, source);
  renameSync(`${out}.tmp`, out);
  n++;
}
console.log(`updated ${n} fixture(s) in ${fixtures}`);
