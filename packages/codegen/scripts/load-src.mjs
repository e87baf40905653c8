// Loads @strata/codegen's TypeScript sources in plain Node (20 cannot import .ts): esbuild
// bundles src/index.ts (with the workspace packages it imports; ts-morph stays external and
// resolves from this package) into a temporary .mjs next to this file, which we import.
import { build } from "esbuild";
import { rmSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

export async function loadCodegenPackage() {
  const outfile = join(here, `.codegen-${process.pid}-${Date.now()}.mjs`);
  try {
    await build({
      entryPoints: [join(here, "../src/index.ts")],
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      outfile,
      external: ["ts-morph"],
      logLevel: "error",
    });
    return await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(outfile, { force: true });
  }
}
