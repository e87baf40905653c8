// Loads @strata/dockerfile's TypeScript sources in plain Node (20 cannot import .ts):
// esbuild bundles src/index.ts into a temporary .mjs that we import.
import { build } from "esbuild";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

export async function loadDockerfilePackage() {
  const dir = mkdtempSync(join(tmpdir(), "strata-df-"));
  const outfile = join(dir, "dockerfile.mjs");
  try {
    await build({
      entryPoints: [join(here, "../src/index.ts")],
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      outfile,
      logLevel: "error",
    });
    return await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
