// `pnpm check:packages`: packs every public package of the workspace exactly as `pnpm publish`
// would (prepack builds its dist; publishConfig and workspace: ranges are applied) and lints the
// tarball with publint (package.json vs. the files it ships) and @arethetypeswrong/cli (do the
// `types` conditions resolve, under Node's ESM resolution and bundlers). The packages are
// ESM-only (Node >= 20.19 can require() them), hence attw's esm-only profile. @strata/cli is a
// command, not a library (its package exports nothing but package.json): attw has no entry
// point to check there, publint still checks it.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dirs = [...readdirSync(join(root, "packages")).map((d) => join(root, "packages", d)), join(root, "images")];
const out = mkdtempSync(join(tmpdir(), "strata-check-packages-"));
const bin = (name) => join(root, "node_modules", ".bin", name);
const run = (cmd, args, cwd) => spawnSync(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
let failed = 0;
// One version for every public package, and the CLI's VERSION (what `strata init` writes) agrees.
const versions = new Map();
for (const dir of dirs) {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    if (!pkg.private) versions.set(pkg.name, pkg.version);
  } catch {
    // not a package
  }
}
const cliVersion = /VERSION = "([^"]+)"/.exec(readFileSync(join(root, "packages/cli/src/version.ts"), "utf8"))?.[1];
const distinct = new Set([...versions.values(), cliVersion]);
if (distinct.size !== 1) {
  console.error(`✗ versions differ: ${[...versions].map(([n, v]) => `${n}@${v}`).join(", ")}, packages/cli/src/version.ts ${cliVersion}`);
  failed++;
} else console.log(`✓ one version: ${cliVersion}`);
try {
  for (const dir of dirs) {
    let pkg;
    try {
      pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    } catch {
      continue;
    }
    if (pkg.private) continue;
    const dest = join(out, pkg.name.replace("/", "+"));
    const pack = run("pnpm", ["pack", "--pack-destination", dest], dir);
    if (pack.status !== 0) {
      console.error(`✗ ${pkg.name}: pnpm pack failed\n${pack.stdout}${pack.stderr}`);
      failed++;
      continue;
    }
    const tarball = join(dest, readdirSync(dest).find((f) => f.endsWith(".tgz")));
    const checks = [["publint", ["--strict", tarball]]];
    if (pkg.name !== "@strata/cli") checks.push(["attw", ["--profile", "esm-only", "--format", "ascii", tarball]]);
    for (const [tool, args] of checks) {
      const r = run(bin(tool), args, root);
      if (r.status === 0) console.log(`✓ ${pkg.name}: ${tool}`);
      else {
        console.error(`✗ ${pkg.name}: ${tool}\n${r.stdout}${r.stderr}`);
        failed++;
      }
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
