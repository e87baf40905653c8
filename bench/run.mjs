// `pnpm bench`: runs every benchmark in this directory in turn and prints its table.
// Each bench module exports `run()`; benches that compare against `docker build` need dockerd.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const BENCHES = ["graph", "parse", "codegen", "context-walk", "build", "executors", "run-steps", "network", "engines", "oci-layer", "registry", "cache-share"];
for (const name of BENCHES) {
  if (only.length && !only.includes(name)) continue;
  const file = join(here, `${name}.mjs`);
  if (!existsSync(file)) continue;
  const mod = await import(pathToFileURL(file).href);
  await mod.run();
}
