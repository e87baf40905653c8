// Bundles the CLI so `strata` starts fast: no TypeScript at run time, each command a lazily
// loaded chunk (code splitting), heavy dependencies (esbuild, ts-morph) external and imported
// only by the commands that need them. Runs on `pnpm install` (prepare), `pnpm build`,
// `pnpm test`, `pnpm bench`, and as the published package's `prepack`.
//
// What @strata/cli ships: bin/ and this dist/. The other @strata packages are bundled in (they
// are devDependencies); its runtime dependencies are esbuild (loading image modules), ts-morph
// (`strata check`, `strata import`; it carries TypeScript and its lib .d.ts files), @types/node
// (Node's types for `strata check` in projects without them) and @strata/core (what a module
// resolves when its own project has none, e.g. a global `strata` in a bare directory; a
// project's own copy always wins, so npm dedupes to one).
import { build } from "esbuild";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const dist = join(root, "packages/cli/dist");
const tmp = `${dist}.tmp-${process.pid}`;
rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });
await build({
  entryPoints: { strata: join(root, "packages/cli/src/bin.ts") },
  outdir: tmp,
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  splitting: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  external: ["esbuild", "ts-morph", "typescript", "fast-check"],
  banner: { js: "import { createRequire as __strataCreateRequire } from 'node:module'; const require = __strataCreateRequire(import.meta.url);" },
  logLevel: "warning",
  legalComments: "none",
});
// Swap the whole directory so a running `strata` never mixes chunks of two builds.
const old = `${dist}.old-${process.pid}`;
if (existsSync(dist)) renameSync(dist, old);
renameSync(tmp, dist);
rmSync(old, { recursive: true, force: true });
