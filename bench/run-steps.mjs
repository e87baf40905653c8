// RUN steps, native vs docker build in the same run: (b) ten RUN steps writing a few files
// each, (c) two stages where the second copies ~60 MB from the first; cold and no-op rebuild.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { busyboxBase, dockerAvailable, DOCKER } from "./fixtures.mjs";
import { fmt, median, printTable, REPO, STRATA, timeCommand } from "./lib.mjs";

const TEN = Array.from({ length: 10 }, (_, i) => `echo step ${i} > /f${i} && mkdir -p /d${i} && seq 1 500 > /d${i}/numbers && date +%s > /dev/null`);
const STAGE = ["dd if=/dev/urandom of=/big.bin bs=1M count=60 2>/dev/null", "echo built > /done"];

export async function run({ runs = 3 } = {}) {
  if (process.getuid?.() !== 0) {
    console.log("run-steps: skipped (RUN steps need root)");
    return [];
  }
  const root = join(tmpdir(), "strata-bench-run");
  mkdirSync(root, { recursive: true });
  const { layout, tag } = await busyboxBase(root);
  const proj = join(root, "proj");
  mkdirSync(join(proj, "node_modules/@strata"), { recursive: true });
  for (const p of ["core", "graph"]) execFileSync("ln", ["-sfn", join(REPO, "packages", p), join(proj, "node_modules/@strata", p)]);
  execFileSync("ln", ["-sfn", layout, join(proj, "busybox")]);
  writeFileSync(join(proj, "ten.image.ts"), `import { from, ociLayout } from "@strata/core";\nexport default from(ociLayout("./busybox"))${TEN.map((c) => `\n  .run(${JSON.stringify(c)})`).join("")};\n`);
  writeFileSync(join(proj, "stages.image.ts"), `import { from, ociLayout } from "@strata/core";\nconst build = from(ociLayout("./busybox"))${STAGE.map((c) => `.run(${JSON.stringify(c)})`).join("")};\nexport default from(ociLayout("./busybox")).copy(build.path("/big.bin"), "/big.bin").copy(build.path("/done"), "/done");\n`);
  writeFileSync(join(proj, "Dockerfile.ten"), `FROM ${tag}\n${TEN.map((c) => `RUN ${c}`).join("\n")}\n`);
  writeFileSync(join(proj, "Dockerfile.stages"), `FROM ${tag} AS build\n${STAGE.map((c) => `RUN ${c}`).join("\n")}\nFROM ${tag}\nCOPY --from=build /big.bin /big.bin\nCOPY --from=build /done /done\n`);
  const rows = [];
  for (const [name, module, dockerfile] of [["(b) ten RUN steps", "ten.image.ts", "Dockerfile.ten"], ["(c) two stages, 60 MB copied", "stages.image.ts", "Dockerfile.stages"]]) {
    const colds = [];
    let home = "";
    for (let i = 0; i < runs; i++) {
      home = mkdtempSync(join(tmpdir(), "strata-bench-home-"));
      colds.push(timeCommand(process.execPath, [STRATA, "build", module, "--progress", "quiet"], { cwd: proj, env: { STRATA_HOME: home }, runs: 1 }));
    }
    const sCold = median(colds);
    const sNoop = timeCommand(process.execPath, [STRATA, "build", module, "--progress", "quiet"], { cwd: proj, env: { STRATA_HOME: home }, runs: runs + 2 });
    let dCold = NaN;
    let dNoop = NaN;
    if (dockerAvailable()) {
      const args = ["build", "-q", "-t", "strata-bench/run:1", "-f", join(proj, dockerfile), proj];
      const clean = () => {
        execFileSync("sh", ["-c", `${DOCKER} rmi -f strata-bench/run:1 >/dev/null 2>&1 || true`]);
        execFileSync(DOCKER, ["builder", "prune", "-af"], { stdio: "ignore" });
      };
      dCold = timeCommand(DOCKER, args, { env: { DOCKER_BUILDKIT: "1" }, runs, before: clean });
      dNoop = timeCommand(DOCKER, args, { env: { DOCKER_BUILDKIT: "1" }, runs: runs + 2 });
    }
    const ratio = (a, b) => (Number.isFinite(b) ? `${(a / b).toFixed(2)}x` : "n/a");
    rows.push({ scenario: `${name}: cold`, strata: fmt(sCold), docker: fmt(dCold), ratio: ratio(sCold, dCold) });
    rows.push({ scenario: `${name}: no-op`, strata: fmt(sNoop), docker: fmt(dNoop), ratio: ratio(sNoop, dNoop) });
  }
  printTable("RUN steps: strata build vs docker build (median)", rows);
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
