// Builds a library package of this workspace for publishing (its `prepack`; `pnpm build:packages`
// builds them all): tsc emits ESM JavaScript, declarations, declaration maps and source maps of
// `src/` into `dist/`.
//
// In the workspace the packages import each other's sources (`exports` → `src`); a published
// package must instead compile against its dependencies' published declarations, so those are
// built first (when stale) and mapped with `paths`. The sources import each other with `.ts`
// extensions; tsc rewrites them to `.js` in the JavaScript but not in the declarations, so the
// `.d.ts` files get the same rewrite here. Output goes to `dist.tmp-PID` and is swapped in whole:
// a failed build leaves the previous dist (or none), never half of one.
//
// Usage: node scripts/build-package.mjs [PACKAGE_DIR...]   (default: the current directory)
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");

/** Name → directory of every workspace library built by this script (it has a `src/index.ts`). */
const libraries = new Map();
for (const dir of [...readdirSync(join(root, "packages")).map((d) => join(root, "packages", d)), join(root, "images")]) {
  if (!existsSync(join(dir, "package.json")) || !existsSync(join(dir, "src", "index.ts"))) continue;
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  if (pkg.name !== "@strata/cli") libraries.set(pkg.name, dir);
}

const built = new Set();

function workspaceDeps(dir) {
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const all = { ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.devDependencies };
  return Object.keys(all).filter((n) => libraries.has(n));
}

function newestMtime(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

function isFresh(dir) {
  const stamp = join(dir, "dist", "index.d.ts");
  if (!existsSync(stamp)) return false;
  const t = statSync(stamp).mtimeMs;
  return newestMtime(join(dir, "src")) <= t && statSync(join(dir, "package.json")).mtimeMs <= t;
}

function build(dir, force) {
  if (built.has(dir)) return;
  built.add(dir);
  const deps = workspaceDeps(dir);
  for (const d of deps) {
    const depDir = libraries.get(d);
    if (!isFresh(depDir)) build(depDir, false);
  }
  if (!force && isFresh(dir)) return;
  const dist = join(dir, "dist");
  const tmp = `${dist}.tmp-${process.pid}`;
  const config = join(dir, `.tsconfig.build-${process.pid}.json`);
  rmSync(tmp, { recursive: true, force: true });
  const paths = Object.fromEntries(deps.map((d) => [d, [relative(dir, join(libraries.get(d), "dist", "index.d.ts"))]]));
  for (const d of deps) {
    // Subpath exports (`@strata/engine/light`) map to their declarations too.
    paths[`${d}/*`] = [relative(dir, join(libraries.get(d), "dist", "*.d.ts"))];
  }
  writeFileSync(
    config,
    JSON.stringify({
      extends: relative(dir, join(root, "tsconfig.base.json")),
      compilerOptions: { noEmit: false, rootDir: "src", outDir: relative(dir, tmp), declaration: true, declarationMap: true, sourceMap: true, types: ["node"], paths },
      include: ["src"],
      exclude: [],
    }),
  );
  const r = spawnSync(process.execPath, [tsc, "-p", config], { cwd: dir, stdio: "inherit" });
  rmSync(config, { force: true });
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    console.error(`build-package: tsc failed in ${relative(root, dir)}`);
    process.exit(r.status ?? 1);
  }
  rewriteDeclarations(tmp);
  const old = `${dist}.old-${process.pid}`;
  if (existsSync(dist)) renameSync(dist, old);
  renameSync(tmp, dist);
  rmSync(old, { recursive: true, force: true });
  console.error(`build-package: built ${relative(root, dir)}/dist`);
}

const RELATIVE_TS = /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']*?)\.ts(["'])/g;
function rewriteDeclarations(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) rewriteDeclarations(p);
    else if (e.name.endsWith(".d.ts")) {
      const text = readFileSync(p, "utf8");
      const out = text.replace(RELATIVE_TS, "$1$2.js$3");
      if (out !== text) writeFileSync(p, out);
    }
  }
}

const targets = process.argv.slice(2).length ? process.argv.slice(2).map((d) => resolve(d)) : [process.cwd()];
for (const t of targets) build(t, true);
