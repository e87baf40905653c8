// Sharing the cache (--cache-to / --cache-from): what a CI runner with an empty store gains
// from a warm registry cache. Per workload, median wall time of `strata build` from an empty
// store with --cache-from a registry cache that a first build exported (mode=max), from an
// empty store with no cache, and of `strata build --engine docker --no-cache` (docker build,
// BuildKit, its cache not used). A local docker-registry serves the cache. Workloads: RUN-heavy
// (four RUN steps that write and compress random data) and COPY-heavy (a 1,000-file / 10 MB
// tree copied, then archived). Runnable alone: `node bench/cache-share.mjs`; small enough to
// finish in about a minute.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { busyboxBase, dockerAvailable, DOCKER, generateContext } from "./fixtures.mjs";
import { fmt, importTypeScript, median, printTable, REPO, STRATA, timeCommand } from "./lib.mjs";

const RUNS = Number(process.env.STRATA_BENCH_CACHE_SHARE_RUNS ?? 1);

const WORKLOADS = {
  "RUN-heavy": `import { from, ociLayout } from "@strata/core";
export default from(ociLayout("./busybox"))
  .run("head -c 6000000 /dev/urandom > /a && gzip -k /a")
  .run("head -c 6000000 /dev/urandom > /b && gzip -k /b")
  .run("for i in 1 2 3 4 5 6; do sha256sum /a /b > /sums.$i; done")
  .run("tar -cf /all.tar /a.gz /b.gz && rm /a /b");
`,
  "COPY-heavy": `import { context, from, ociLayout } from "@strata/core";
export default from(ociLayout("./busybox"))
  .workdir("/src")
  .copy(context("tree"), "/src/tree")
  .run("tar -cf /src.tar /src/tree && wc -c /src.tar > /size");
`,
};

function loadRegistryHelpers() {
  return importTypeScript("cache-share", `export { startRegistry } from "./packages/registry/test/helpers/index.ts";`);
}

export async function run({ runs = RUNS } = {}) {
  if (process.getuid?.() !== 0 || !dockerAvailable()) {
    console.log("cache-share: skipped (needs root for RUN steps and a running dockerd)");
    return [];
  }
  const { startRegistry } = await loadRegistryHelpers();
  const registry = await startRegistry();
  const root = mkdtempSync(join(tmpdir(), "strata-bench-cache-share-"));
  const rows = [];
  try {
    const { layout } = await busyboxBase(root);
    for (const [name, module] of Object.entries(WORKLOADS)) {
      const proj = join(root, name);
      mkdirSync(join(proj, "node_modules/@strata"), { recursive: true });
      for (const p of ["core", "graph"]) execFileSync("ln", ["-sfn", join(REPO, "packages", p), join(proj, "node_modules/@strata", p)]);
      execFileSync("ln", ["-sfn", layout, join(proj, "busybox")]);
      if (name === "COPY-heavy") generateContext(join(proj, "tree"), { files: 1_000, mb: 10 });
      writeFileSync(join(proj, "bench.image.ts"), module);
      const ref = `${registry.host}/bench/${name.toLowerCase()}:cache`;
      const insecure = ["--insecure-registry", registry.host];
      const strata = (args) => timeCommand(process.execPath, [STRATA, "build", "bench.image.ts", "--progress", "quiet", ...args], { cwd: proj, runs: 1, env: { STRATA_HOME: mkdtempSync(join(root, "home-")) } });
      // The warm remote cache: one build exports everything it did.
      strata(["--cache-to", `type=registry,ref=${ref},mode=max`, ...insecure]);
      const warm = median(Array.from({ length: runs }, () => strata(["--cache-from", `type=registry,ref=${ref}`, ...insecure])));
      const cold = median(Array.from({ length: runs }, () => strata([])));
      const tag = `strata-bench/cache-share-${name.toLowerCase()}:docker`;
      const docker = median(Array.from({ length: runs }, () => strata(["--engine", "docker", "--no-cache", "-t", tag])));
      spawnSync(DOCKER, ["rmi", "-f", tag], { stdio: "ignore" });
      rows.push({ workload: name, "cold + remote cache": fmt(warm), "cold, no cache": fmt(cold), "docker build --no-cache": fmt(docker), "no cache / remote": `${(cold / warm).toFixed(2)}x` });
    }
  } finally {
    await registry.stop();
    rmSync(root, { recursive: true, force: true });
  }
  printTable("a CI runner's empty store: --cache-from a warm registry cache vs none vs docker build (median)", rows);
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
