// Bundles the CLI into one ESM file so `strata` starts fast: no TypeScript at run time, heavy
// dependencies (esbuild, ts-morph) stay external and are imported lazily by the commands that
// need them. Runs on `pnpm install` (prepare), `pnpm build`, `pnpm test` and `pnpm bench`.
import { build } from "esbuild";
import { mkdirSync, renameSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outdir = join(root, "packages/cli/dist");
mkdirSync(outdir, { recursive: true });
const tmp = join(outdir, `.strata.${process.pid}.mjs`);
await build({
  entryPoints: { strata: join(root, "packages/cli/src/main.ts") },
  outfile: tmp,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  external: ["esbuild", "ts-morph", "typescript", "tar-stream", "fast-check"],
  // Lazily imported commands become separate chunks only with splitting; one file keeps start-up to a single read.
  banner: { js: "import { createRequire as __strataCreateRequire } from 'node:module'; const require = __strataCreateRequire(import.meta.url);" },
  logLevel: "warning",
  legalComments: "none",
});
// Atomic: a concurrently starting `strata` never sees a half-written bundle.
renameSync(tmp, join(outdir, "strata.mjs"));
renameSync(`${tmp}.map`, join(outdir, "strata.mjs.map"));
