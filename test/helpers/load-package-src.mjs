// Loads a workspace package's TypeScript sources in plain Node (20 cannot import .ts), for
// benches and fixture updaters that run outside vitest: esbuild bundles the package's
// src/index.ts with the workspace packages it imports into a temporary .mjs inside the
// package (so `external` modules such as ts-morph resolve from its node_modules), which we
// import and then delete.
import { build } from "esbuild";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** `packageDir` is the package's root (holding package.json and src/). */
export async function loadPackageSource(packageDir, { external = [] } = {}) {
  const outfile = join(packageDir, `.src-${process.pid}-${Date.now()}.mjs`);
  try {
    await build({
      entryPoints: [join(packageDir, "src/index.ts")],
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      outfile,
      external,
      logLevel: "error",
    });
    return await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(outfile, { force: true });
  }
}
