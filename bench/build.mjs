// COPY of a large context onto a small base, native vs docker build in the same run:
// cold build, no-op rebuild, rebuild after editing one file; both end with the image stored
// locally, uncompressed (Strata's store / Docker's image store). Gzip export reported apart.
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { busyboxBase, dockerAvailable, DOCKER, generateContext } from "./fixtures.mjs";
import { fmt, printTable, REPO, STRATA, timeCommand } from "./lib.mjs";

export async function run({ files = Number(process.env.BENCH_FILES ?? 20_000), mb = Number(process.env.BENCH_MB ?? 300), runs = 3 } = {}) {
  const root = join(tmpdir(), `strata-bench-copy-${files}-${mb}`);
  mkdirSync(root, { recursive: true });
  // The context is a real directory of the project: `context("ctx")` is the build context read
  // under `ctx/`, and a symlink there would (rightly) not be followed out of the context.
  const proj = join(root, "proj");
  const ctx = generateContext(join(proj, "ctx"), { files, mb });
  const { layout, tag } = await busyboxBase(root);
  mkdirSync(join(proj, "node_modules/@strata"), { recursive: true });
  for (const p of ["core", "graph"]) {
    try { execFileSync("ln", ["-sfn", join(REPO, "packages", p), join(proj, "node_modules/@strata", p)]); } catch {}
  }
  execFileSync("ln", ["-sfn", layout, join(proj, "busybox")]);
  writeFileSync(join(proj, "copy.image.ts"), `import { from, ociLayout, context } from "@strata/core";\nexport default from(ociLayout("./busybox")).copy(context("ctx"), "/data");\n`);
  writeFileSync(join(ctx, "..", "Dockerfile.bench"), `FROM ${tag}\nCOPY . /data\n`);
  const edit = join(ctx, "d7", "e3", "f707.bin");
  const strataHome = () => mkdtempSync(join(tmpdir(), "strata-bench-home-"));
  const strata = (home, opts = {}) => timeCommand(process.execPath, [STRATA, "build", "copy.image.ts", "--progress", "quiet"], { cwd: proj, env: { STRATA_HOME: home }, ...opts });
  const rows = [];

  // Strata
  const homes = [];
  // Cold: a fresh store each run (nothing cached, no stat cache).
  let sCold = [];
  for (let i = 0; i < runs; i++) {
    homes[i] = strataHome();
    sCold.push(strata(homes[i], { runs: 1 }));
  }
  sCold = sCold.sort((a, b) => a - b)[runs >> 1];
  const home = homes[homes.length - 1];
  const sNoop = timeCommand(process.execPath, [STRATA, "build", "copy.image.ts", "--progress", "quiet"], { cwd: proj, env: { STRATA_HOME: home }, runs: runs + 2 });
  const sEdit = timeCommand(process.execPath, [STRATA, "build", "copy.image.ts", "--progress", "quiet"], { cwd: proj, env: { STRATA_HOME: home }, runs, before: (i) => appendFileSync(edit, `edit-s${i}`) });
  const sGzip = timeCommand(process.execPath, [STRATA, "build", "copy.image.ts", "--progress", "quiet", "-o", `type=oci,dest=${join(root, "out.tar")}`], { cwd: proj, env: { STRATA_HOME: strataHome() }, runs: 1 });

  let dCold = NaN, dNoop = NaN, dEdit = NaN;
  if (dockerAvailable()) {
    const env = { DOCKER_BUILDKIT: "1" };
    const dbuild = (opts) => timeCommand(DOCKER, ["build", "-q", "-t", "strata-bench/copy:1", "-f", join(ctx, "..", "Dockerfile.bench"), ctx], { env, ...opts });
    const clean = () => {
      execFileSync("sh", ["-c", `${DOCKER} rmi -f strata-bench/copy:1 >/dev/null 2>&1 || true`]);
      execFileSync(DOCKER, ["builder", "prune", "-af"], { stdio: "ignore" });
    };
    // Cold: no build cache, no image (the context is transferred and copied again).
    dCold = dbuild({ runs, before: clean });
    dNoop = dbuild({ runs: runs + 2 });
    dEdit = dbuild({ runs, before: (i) => appendFileSync(edit, `edit-d${i}`) });
  }
  const ratio = (a, b) => (Number.isFinite(b) ? `${(a / b).toFixed(2)}x` : "n/a");
  rows.push({ scenario: `cold (${files} files, ${mb} MB)`, strata: fmt(sCold), docker: fmt(dCold), ratio: ratio(sCold, dCold) });
  rows.push({ scenario: "no-op rebuild", strata: fmt(sNoop), docker: fmt(dNoop), ratio: ratio(sNoop, dNoop) });
  rows.push({ scenario: "one file edited", strata: fmt(sEdit), docker: fmt(dEdit), ratio: ratio(sEdit, dEdit) });
  rows.push({ scenario: "cold + gzip OCI export", strata: fmt(sGzip), docker: "-", ratio: "-" });
  printTable("COPY a large context onto busybox: strata build vs docker build (median)", rows);
  rmSync(join(root, "out.tar"), { force: true });
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
