// The per-RUN cost of a step's network: the same trivial step (`true`) under each executor with
// network host (no namespace of its own), none (a namespace with lo) and default (a namespace
// plus slirp4netns), and startNetwork() + close() alone. The cost of isolation is the
// difference to `host`; the target is under ~30 ms per step for default.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { printTable, REPO } from "./lib.mjs";
import { loadPackageSource } from "../test/helpers/load-package-src.mjs";

const ms = (x) => `${x.toFixed(1)} ms`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run({ runs = 15 } = {}) {
  if (process.getuid?.() !== 0) {
    console.log("network: skipped (RUN steps need root)");
    return [];
  }
  const engine = await loadPackageSource(join(REPO, "packages/engine"));
  const dir = mkdtempSync(join(tmpdir(), "strata-bench-net-"));
  try {
    const root = join(dir, "root");
    mkdirSync(join(root, "bin"), { recursive: true });
    copyFileSync("/bin/busybox", join(root, "bin/busybox"));
    execFileSync("chmod", ["755", join(root, "bin/busybox")]);
    for (const a of ["sh", "true"]) symlinkSync("busybox", join(root, "bin", a));
    const rows = [];
    const time = async (fn) => {
      await fn(); // warm-up: probes, /dev template, page cache
      const xs = [];
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        await fn();
        xs.push(performance.now() - t);
      }
      return median(xs);
    };
    for (const mode of ["none", "default"]) {
      // Until ready (what a step waits for), and close() to the helpers' exit (which no step waits for).
      const closes = [];
      const start = await time(async () => {
        const net = await engine.startNetwork({ mode });
        closes.push(net);
      });
      const close = await time(async () => {
        const net = closes.pop() ?? (await engine.startNetwork({ mode }));
        await net.close();
      });
      for (const net of closes) await net.close();
      rows.push({ case: `startNetwork(${mode}): ready / closed`, runc: `${ms(start)} / ${ms(close)}`, sandbox: "(same)" });
    }
    const executors = [
      new engine.OciRuntimeExecutor({ stateDir: join(dir, "state/runc") }),
      new engine.SandboxExecutor({ stateDir: join(dir, "state/sandbox") }),
    ];
    const perMode = {};
    for (const mode of ["host", "none", "default"]) {
      perMode[mode] = {};
      for (const ex of executors) {
        if (!(await ex.available())) continue;
        const spec = { rootfs: root, argv: ["true"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0, additionalGids: [] }, mounts: [], network: mode };
        perMode[mode][ex.name] = await time(() => ex.run(spec));
      }
    }
    for (const mode of ["host", "none", "default"]) {
      const cell = (name) => {
        const v = perMode[mode][name];
        if (v === undefined) return "n/a";
        return mode === "host" ? ms(v) : `${ms(v)} (+${ms(v - perMode.host[name])})`;
      };
      rows.push({ case: `RUN true, network ${mode}`, runc: cell("runc"), sandbox: cell("sandbox") });
    }
    printTable(`Network per RUN step (median of ${runs}; + is the cost over network host)`, rows);
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
