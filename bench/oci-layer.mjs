// Benchmarks @strata/oci's layer writer, gzip and extractor against GNU tar on this machine.
//
//   node bench/oci-layer.mjs            # full size: 20,000 files / ~300 MB, 4 × 100 MB files
//   SCALE=0.2 node bench/oci-layer.mjs  # smaller trees for a quick look
//
// The source trees are generated once under $BENCH_DIR (default /tmp/strata-bench-oci) and
// reused; every figure is the median of RUNS runs (default 3) with a warm page cache.
import { execFileSync } from "node:child_process";
import { createReadStream, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const SCALE = Number(process.env.SCALE ?? 1);
const RUNS = Number(process.env.RUNS ?? 3);
const BENCH_DIR = process.env.BENCH_DIR ?? join(tmpdir(), "strata-bench-oci");
const repo = fileURLToPath(new URL("..", import.meta.url));

const bundle = join(BENCH_DIR, "oci.mjs");
mkdirSync(BENCH_DIR, { recursive: true });
await build({ entryPoints: [join(repo, "packages/oci/src/index.ts")], bundle: true, platform: "node", format: "esm", outfile: bundle, logLevel: "silent" });
const { writeLayer, extractLayer, gzipBlob } = await import(pathToFileURL(bundle).href);

// --- source trees ---------------------------------------------------------------------
// Source-like text over a 4,096-word vocabulary: compresses about 3:1 with gzip -6, like code.
const WORDS = (() => {
  let x = 12345;
  const words = [];
  for (let i = 0; i < 4096; i++) {
    let w = "";
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    const len = 3 + ((x >>> 0) % 8);
    for (let j = 0; j < len; j++) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      w += String.fromCharCode(97 + ((x >>> 0) % 26));
    }
    words.push(w);
  }
  return words;
})();
function textBytes(size, seed) {
  let x = seed | 1;
  const parts = [];
  let n = 0;
  while (n < size) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    const w = `${WORDS[(x >>> 0) % WORDS.length]}${(x >>> 8) % 7 === 0 ? `(${(x >>> 12) % 1000});\n` : " "}`;
    parts.push(w);
    n += w.length;
  }
  return Buffer.from(parts.join("")).subarray(0, size);
}

function ensureTree(name, make) {
  const dir = join(BENCH_DIR, name);
  if (!existsSync(join(dir, ".done"))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    make(dir);
    writeFileSync(join(dir, ".done"), "");
  }
  return dir;
}

const smallCount = Math.round(20_000 * SCALE);
const small = ensureTree(`small-${smallCount}`, (dir) => {
  // 20,000 files in 200 directories, 1–30 KB each (~300 MB), like a node_modules or source tree.
  for (let i = 0; i < smallCount; i++) {
    const d = join(dir, `d${i % 200}`);
    if (i < 200) mkdirSync(d);
    writeFileSync(join(d, `f${i}.js`), textBytes(1024 + ((i * 7919) % 29_696), i + 1));
  }
});
const largeSize = Math.round(100 * SCALE) << 20;
const large = ensureTree(`large-${largeSize}`, (dir) => {
  for (let i = 0; i < 4; i++) writeFileSync(join(dir, `big${i}.bin`), textBytes(largeSize, i + 7));
});

function entriesOf(root) {
  const out = [];
  const walk = (rel) => {
    for (const name of readdirSync(join(root, rel))) {
      if (name === ".done") continue;
      const p = rel ? `${rel}/${name}` : name;
      const st = statSync(join(root, p));
      if (st.isDirectory()) {
        out.push({ type: "directory", path: p, mode: 0o755, uid: 0, gid: 0, mtime: st.mtimeMs / 1000 });
        walk(p);
      } else {
        out.push({ type: "file", path: p, mode: 0o644, uid: 0, gid: 0, mtime: st.mtimeMs / 1000, size: st.size, content: { path: join(root, p) } });
      }
    }
  };
  walk("");
  return out;
}

// --- helpers --------------------------------------------------------------------------
/** Median wall time in seconds; `lastCpu` gets that run's CPU seconds in this process (all threads). */
let lastCpu = 0;
async function median(fn, before = () => {}, count = RUNS) {
  const runs = [];
  for (let i = 0; i < count; i++) {
    before();
    const c = process.cpuUsage();
    const t = performance.now();
    await fn(i);
    const cpu = process.cpuUsage(c);
    runs.push({ wall: performance.now() - t, cpu: (cpu.user + cpu.system) / 1e6 });
  }
  runs.sort((a, b) => a.wall - b.wall);
  const mid = runs[Math.floor(runs.length / 2)];
  lastCpu = mid.cpu;
  return mid.wall / 1000;
}
const mb = (bytes) => bytes / 1e6;
const rows = [];
/** `inProcess`: also report MB per CPU-second of this process (steadier than wall time on a busy machine). */
function report(what, seconds, bytes, files, inProcess = false) {
  const row = {
    what,
    seconds: seconds.toFixed(2),
    "MB/s": (mb(bytes) / seconds).toFixed(0),
    "files/s": files ? Math.round(files / seconds) : "",
    "MB/cpu-s": inProcess && lastCpu > 0 ? (mb(bytes) / lastCpu).toFixed(0) : "",
  };
  rows.push(row);
  console.log(
    `${what.padEnd(66)} ${row.seconds.padStart(6)} s ${row["MB/s"].padStart(6)} MB/s ${String(row["files/s"]).padStart(7)} files/s ${row["MB/cpu-s"].padStart(5)} MB/cpu-s`,
  );
}
const out = join(BENCH_DIR, "out");
mkdirSync(out, { recursive: true });
const fresh = (name) => {
  const p = join(out, name);
  rmSync(p, { recursive: true, force: true });
  return p;
};

// --- layer writing --------------------------------------------------------------------
for (const [name, root] of [[`${smallCount} small files`, small], ["4 large files", large]]) {
  const entries = entriesOf(root);
  const files = entries.filter((e) => e.type === "file").length;
  const bytes = entries.reduce((n, e) => n + (e.size ?? 0), 0);
  execFileSync("sh", ["-c", `cat $(find ${root} -type f | head -2000) > /dev/null`]); // warm the cache a bit
  let size = 0;
  const t = await median(async () => {
    const r = await writeLayer(entries, { to: { file: fresh("layer.tar") } });
    size = r.size;
  });
  report(`writeLayer, ${name} (uncompressed, hashed)`, t, bytes, files, true);
  const g = await median(async () => execFileSync("tar", ["-cf", fresh("gnu.tar"), "-C", root, "."]));
  report(`GNU tar -cf, ${name}`, g, bytes, files);
  const gs = await median(async () => execFileSync("sh", ["-c", `tar -cf - -C ${root} . | tee ${fresh("gnu.tar")} | sha256sum`]));
  report(`GNU tar -cf - | tee | sha256sum (hashed, 2 processes), ${name}`, gs, bytes, files);
  // Extraction: targets are removed before each timed run (deleting 20,000 files is not
  // extraction), and our runs alternate with GNU tar's, because ext4 makes file creation
  // slower for a while after a big delete, which would otherwise favour whoever runs second.
  const ours = [];
  const gnu = [];
  for (let i = 0; i < RUNS; i++) {
    ours.push(await median(async () => extractLayer(createReadStream(join(out, "layer.tar"), { highWaterMark: 1 << 20 }), join(out, "x"), { mode: "apply" }), () => fresh("x"), 1));
    const oursCpu = lastCpu;
    gnu.push(await median(async () => execFileSync("tar", ["-xf", join(out, "layer.tar"), "-C", join(out, "gx")]), () => mkdirSync(fresh("gx")), 1));
    lastCpu = oursCpu;
  }
  const mid = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  report(`extractLayer, ${name}`, mid(ours), bytes, files, true);
  const gx = mid(gnu);
  report(`GNU tar -xf, ${name}`, gx, bytes, files);
  if (name.includes("small")) console.log(`  (layer: ${mb(size).toFixed(0)} MB of tar)`);
  rmSync(join(out, "x"), { recursive: true, force: true });
  rmSync(join(out, "gx"), { recursive: true, force: true });
}

// --- gzip -----------------------------------------------------------------------------
// One ~100 MB file as a layer: gzip -6 is slow enough that the whole 400 MB would take minutes.
const tarPath = join(out, "gzip-input.tar");
const big = entriesOf(large).find((e) => e.path === "big0.bin");
await writeLayer([big], { to: { file: fresh("gzip-input.tar") } });
const tarSize = statSync(tarPath).size;
for (const level of [6, 1]) {
  for (const threads of [1, 2]) {
    const t = await median(
      async () => gzipBlob(createReadStream(tarPath, { highWaterMark: 1 << 20 }), { to: { file: join(out, "layer.tar.gz") }, level, threads }),
      () => fresh("layer.tar.gz"),
    );
    report(`gzipBlob level ${level}, ${threads} thread${threads > 1 ? "s" : ""}`, t, tarSize, 0, true);
  }
}
const gz = await median(async () => execFileSync("sh", ["-c", `gzip -6 -c ${tarPath} > ${fresh("gnu.tar.gz")}`]));
report("GNU gzip -6 (one thread)", gz, tarSize);

rmSync(out, { recursive: true, force: true });
writeFileSync(join(BENCH_DIR, "results.json"), JSON.stringify({ scale: SCALE, runs: RUNS, rows }, null, 2));
