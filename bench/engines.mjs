// The same image module built by both engines in one run: `strata build` (native) and
// `strata build --engine docker` (export + docker build), cold and no-op, with ratios.
// The module: a busybox base, a COPY of a 2,000-file / ~20 MB tree, four RUN steps, and a
// second stage that copies the first's output. Runnable alone: `node bench/engines.mjs`.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { busyboxBase, dockerAvailable, DOCKER, generateContext } from "./fixtures.mjs";
import { fmt, median, printTable, REPO, STRATA, timeCommand } from "./lib.mjs";

const MODULE = `import { context, from, ociLayout } from "@strata/core";
const base = from(ociLayout("./busybox"));
const build = base
  .workdir("/src")
  .copy(context("tree"), "/src/tree")
  .run("find tree -type f | sort > /src/files")
  .run("mkdir -p /out && cat /src/files | wc -l > /out/count")
  .run("tar -cf /out/tree.tar tree")
  .run("sha256sum /out/tree.tar > /out/sum");
export default base.copy(build.path("/out"), "/out").cmd(["cat", "/out/count"]);
`;

const TAG = "strata-bench/engines:docker";

export async function run({ runs = 3 } = {}) {
  if (process.getuid?.() !== 0 || !dockerAvailable()) {
    console.log("engines: skipped (needs root for RUN steps and a running dockerd)");
    return [];
  }
  const root = join(tmpdir(), "strata-bench-engines");
  mkdirSync(root, { recursive: true });
  const { layout } = await busyboxBase(root);
  const proj = join(root, "proj");
  mkdirSync(join(proj, "node_modules/@strata"), { recursive: true });
  for (const p of ["core", "graph"]) execFileSync("ln", ["-sfn", join(REPO, "packages", p), join(proj, "node_modules/@strata", p)]);
  execFileSync("ln", ["-sfn", layout, join(proj, "busybox")]);
  generateContext(join(proj, "tree"), { files: 2_000, mb: 20 });
  writeFileSync(join(proj, "engines.image.ts"), MODULE);

  const strata = (args, env = {}) => timeCommand(process.execPath, [STRATA, "build", "engines.image.ts", "--progress", "quiet", ...args], { cwd: proj, env, runs: 1 });
  // Cold native: a new store each time. Cold docker: no image, no build cache, base not loaded.
  const nativeCold = [];
  let home = "";
  for (let i = 0; i < runs; i++) {
    home = mkdtempSync(join(tmpdir(), "strata-bench-home-"));
    nativeCold.push(strata([], { STRATA_HOME: home }));
  }
  const nativeNoop = median(Array.from({ length: runs + 2 }, () => strata([], { STRATA_HOME: home })));
  const dockerCold = [];
  for (let i = 0; i < runs; i++) {
    forgetDockerState();
    dockerCold.push(strata(["--engine", "docker", "-t", TAG]));
  }
  const dockerNoop = median(Array.from({ length: runs + 2 }, () => strata(["--engine", "docker", "-t", TAG])));
  const ratio = (a, b) => `${(b / a).toFixed(2)}x`;
  const rows = [
    { scenario: "cold", native: fmt(median(nativeCold)), docker: fmt(median(dockerCold)), "docker/native": ratio(median(nativeCold), median(dockerCold)) },
    { scenario: "no-op", native: fmt(nativeNoop), docker: fmt(dockerNoop), "docker/native": ratio(nativeNoop, dockerNoop) },
  ];
  printTable("strata build: native engine vs --engine docker, same module (median)", rows);
  return rows;
}

/** Removes what makes a docker-engine build warm: the image, the loaded base, BuildKit's cache. */
function forgetDockerState() {
  spawnSync(DOCKER, ["rmi", "-f", TAG], { stdio: "ignore" });
  const bases = spawnSync(DOCKER, ["images", "--format", "{{.Repository}}:{{.Tag}}", "strata-local/busybox"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
  for (const b of bases) spawnSync(DOCKER, ["rmi", "-f", b], { stdio: "ignore" });
  spawnSync(DOCKER, ["builder", "prune", "-af"], { stdio: "ignore" });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
