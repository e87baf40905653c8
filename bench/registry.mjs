// Registry push and pull of a ~300 MB image (6 random 50 MB layers) to a local
// docker-registry, strata's client against `skopeo copy` in the same run, plus the raw HTTP
// download speed of node:http against fetch (undici) that chose the client's transport.
// The TypeScript sources are bundled with esbuild into a temporary .mjs first.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { REPO, STRATA, fmt, importTypeScript, median, printTable, timeCommand } from "./lib.mjs";

const LAYERS = Number(process.env.STRATA_BENCH_REGISTRY_LAYERS ?? 6);
const LAYER_MB = Number(process.env.STRATA_BENCH_REGISTRY_LAYER_MB ?? 50);
const RUNS = Number(process.env.STRATA_BENCH_REGISTRY_RUNS ?? 3);
const REPUSH_MB = Number(process.env.STRATA_BENCH_REPUSH_MB ?? 64);

function loadModules() {
  return importTypeScript("registry", `export * from "./packages/registry/src/index.ts"; export * from "./packages/registry/test/helpers/index.ts"; export { FsBlobStore } from "./packages/oci/src/index.ts"; export { busyboxLayout } from "./test/helpers/busybox.ts";`);
}

async function time(fn) {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Writes an OCI layout around a store whose root is `<dir>/blobs` (what skopeo reads). */
function writeLayout(dir, manifestDigest, size, tag) {
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(
    join(dir, "index.json"),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: manifestDigest, size, annotations: { "org.opencontainers.image.ref.name": tag } }] }),
  );
}

/** One blob fetched with node:http and with fetch, hashed on the way, bytes discarded. */
async function transportRace(url, runs) {
  const viaHttp = () =>
    new Promise((resolve, reject) => {
      http.get(url, (res) => {
        const h = createHash("sha256");
        res.on("data", (c) => h.update(c));
        res.on("end", () => resolve(h.digest("hex")));
        res.on("error", reject);
      });
    });
  const viaFetch = async () => {
    const res = await fetch(url);
    const h = createHash("sha256");
    for await (const c of res.body) h.update(c);
    return h.digest("hex");
  };
  const a = [];
  const b = [];
  for (let i = 0; i < runs; i++) {
    a.push(await time(viaHttp));
    b.push(await time(viaFetch));
  }
  return { http: median(a), fetch: median(b) };
}

/**
 * `strata build --push` of a busybox image plus one REPUSH_MB layer: once cold (build, gzip,
 * upload), then again unchanged (a no-op build, the gzip cached by diffID, HEAD checks, the
 * manifest), against `skopeo copy` of the same image to a registry that has its blobs.
 */
async function rePush(m, work) {
  // A project that imports @strata/core as an installed dependency would.
  const dir = join(work, "repush-project");
  mkdirSync(join(dir, "node_modules", "@strata"), { recursive: true });
  for (const pkg of ["core", "graph"]) symlinkSync(join(REPO, "packages", pkg), join(dir, "node_modules", "@strata", pkg));
  writeFileSync(join(dir, "app.image.ts"), 'import { from, ociLayout } from "@strata/core";\nexport default from(ociLayout("./busybox")).copy("data.bin", "/data.bin");\n');
  await m.busyboxLayout(dir);
  writeFileSync(join(dir, "data.bin"), randomBytes(REPUSH_MB << 20));
  const reg = await m.startRegistry();
  try {
    const env = { STRATA_HOME: join(work, "repush-home") };
    const args = [STRATA, "build", "app.image.ts", "-t", `${reg.host}/bench/app:1`, "--push", "--progress", "quiet"];
    const cold = timeCommand(process.execPath, args, { runs: 1, cwd: dir, env });
    const warm = timeCommand(process.execPath, args, { runs: RUNS, cwd: dir, env });
    // The same compressed image as an OCI layout, for skopeo (already in the registry once).
    timeCommand(process.execPath, [STRATA, "build", "app.image.ts", "-t", "bench:1", "-o", `type=oci-layout,dest=${join(work, "repush-layout")}`, "--progress", "quiet"], { runs: 1, cwd: dir, env });
    const copy = ["copy", "-q", "--dest-tls-verify=false", `oci:${join(work, "repush-layout")}:bench:1`, `docker://${reg.host}/bench/skopeo:1`];
    timeCommand("skopeo", copy, { runs: 1 });
    const skopeo = timeCommand("skopeo", copy, { runs: RUNS });
    const push = timeCommand(process.execPath, [STRATA, "push", "bench:1", `${reg.host}/bench/app:1`], { runs: RUNS, cwd: dir, env });
    return [
      { operation: `build --push, new image (+${REPUSH_MB} MB layer: build, gzip, upload)`, strata: fmt(cold), peer: "-", ratio: "-" },
      { operation: "build --push again, unchanged (no-op build, cached gzip, HEADs)", strata: fmt(warm), peer: `skopeo copy, blobs there ${fmt(skopeo)}`, ratio: (warm / skopeo).toFixed(2) },
      { operation: "strata push of that image again (cached gzip, HEADs)", strata: fmt(push), peer: `skopeo copy, blobs there ${fmt(skopeo)}`, ratio: (push / skopeo).toFixed(2) },
    ];
  } finally {
    await reg.stop();
  }
}

export async function run() {
  const m = await loadModules();
  const work = mkdtempSync(join(tmpdir(), "strata-bench-registry-"));
  const layout = join(work, "src");
  mkdirSync(layout);
  const store = new m.FsBlobStore(join(layout, "blobs"));
  const img = await m.randomImage(store, LAYERS, LAYER_MB * 1024 * 1024);
  writeLayout(layout, img.manifestDigest, img.manifest.byteLength, "bench");
  const totalMB = (LAYERS * LAYER_MB).toFixed(0);

  const regs = [];
  const rows = [];
  try {
    const times = { strataPush: [], skopeoPush: [], strataPull: [], skopeoPull: [] };
    for (let i = 0; i < RUNS; i++) {
      // Fresh registries each round, so no push finds its blobs already there.
      const a = await m.startRegistry();
      const b = await m.startRegistry();
      regs.push(a, b);
      const client = new m.Registry();
      const source = await m.sourceFromStore(store, img.manifestDigest);
      times.strataPush.push(await time(() => client.push(source, `${a.host}/bench/img:1`)));
      times.skopeoPush.push(
        await time(async () => execFileSync("skopeo", ["copy", "-q", "--dest-tls-verify=false", `oci:${layout}:bench`, `docker://${b.host}/bench/img:1`], { stdio: "ignore" })),
      );
      const pullStore = new m.FsBlobStore(join(work, `pull-${i}`));
      times.strataPull.push(await time(() => client.pull(`${a.host}/bench/img:1`, pullStore)));
      const out = join(work, `skopeo-${i}`);
      times.skopeoPull.push(await time(async () => execFileSync("skopeo", ["copy", "-q", "--src-tls-verify=false", `docker://${b.host}/bench/img:1`, `oci:${out}:1`], { stdio: "ignore" })));
      rmSync(join(work, `pull-${i}`), { recursive: true, force: true });
      rmSync(out, { recursive: true, force: true });
      if (i === RUNS - 1) {
        const race = await transportRace(`${a.url}/v2/bench/img/blobs/${img.layers[0].digest}`, 5);
        rows.push({ operation: `GET one ${LAYER_MB} MB blob + sha256`, strata: `node:http ${fmt(race.http)}`, peer: `fetch ${fmt(race.fetch)}`, ratio: (race.http / race.fetch).toFixed(2) });
      }
      await a.stop();
      await b.stop();
      regs.length = 0;
    }
    const row = (op, s, k) => {
      const ms = median(s);
      const mk = median(k);
      return { operation: op, strata: `${fmt(ms)} (${(totalMB / ms).toFixed(0)} MB/s)`, peer: `skopeo ${fmt(mk)} (${(totalMB / mk).toFixed(0)} MB/s)`, ratio: (ms / mk).toFixed(2) };
    };
    rows.unshift(row(`push ${totalMB} MB, ${LAYERS} layers`, times.strataPush, times.skopeoPush), row(`pull ${totalMB} MB, ${LAYERS} layers`, times.strataPull, times.skopeoPull));
    rows.push(...(await rePush(m, work)));
  } finally {
    for (const r of regs) await r.stop();
    rmSync(work, { recursive: true, force: true });
  }
  printTable(`registry: local docker-registry, median of ${RUNS} (ratio = strata / peer; < 1 is faster)`, rows);
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
