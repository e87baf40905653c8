// Loading and graphing an example: `strata graph` wall time, with a cold evaluation (esbuild
// bundles and Node evaluates the module) and a warm one (the evaluated graph is cached by the
// module's input files). Node's own start-up is measured alongside for scale.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { STRATA, fmt, printTable, timeCommand } from "./lib.mjs";

export async function run() {
  const home = mkdtempSync(join(tmpdir(), "strata-bench-graph-"));
  const rows = [];
  const node = timeCommand(process.execPath, ["-e", "0"], { runs: 7 });
  for (const file of ["examples/hello/hello.image.ts", "examples/go-static/app.image.ts", "examples/node-service/service.image.ts"]) {
    const cold = timeCommand(process.execPath, [STRATA, "graph", file], { runs: 7, env: { STRATA_HOME: home, STRATA_NO_EVAL_CACHE: "1" } });
    timeCommand(process.execPath, [STRATA, "graph", file], { runs: 1, env: { STRATA_HOME: home } });
    const warm = timeCommand(process.execPath, [STRATA, "graph", file], { runs: 7, env: { STRATA_HOME: home } });
    rows.push({ example: file, "cold (bundle+eval)": fmt(cold), "warm (cached eval)": fmt(warm), "node -e 0": fmt(node) });
  }
  printTable("strata graph: load and graph an example (median of 7)", rows);
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
