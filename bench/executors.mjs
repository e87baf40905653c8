// Each RUN executor (runc, the sandbox) on this host: a trivial `RUN true` (setup, run and
// teardown of one step), and how long an abort takes to kill a step's whole process tree.
// The unit tests (packages/engine/test/executor.test.ts) assert what happens; this prints how
// long it takes. Needs root and busybox-static.
//
//   node bench/executors.mjs
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { median, printTable, REPO } from "./lib.mjs";

export async function run({ runs = 10 } = {}) {
  if (process.getuid?.() !== 0) {
    console.log("executors: skipped (RUN steps need root)");
    return [];
  }
  const work = mkdtempSync(join(tmpdir(), "strata-bench-exec-"));
  try {
    const entry = join(work, "entry.ts");
    const bundle = join(work, "executors.mjs");
    await build({
      stdin: { contents: `export * from ${JSON.stringify(join(REPO, "packages/engine/src/executor/index.ts"))};\nexport { makeBusyboxRootfs } from ${JSON.stringify(join(REPO, "packages/engine/test/helpers/busybox-rootfs.ts"))};\n`, resolveDir: work, loader: "ts", sourcefile: entry },
      bundle: true,
      platform: "node",
      format: "esm",
      outfile: bundle,
      logLevel: "silent",
    });
    const { OciRuntimeExecutor, SandboxExecutor, makeBusyboxRootfs } = await import(pathToFileURL(bundle).href);
    const root = makeBusyboxRootfs(join(work, "root"));
    const spec = (argv) => ({ rootfs: root, argv, env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0, additionalGids: [] }, mounts: [], network: "default" });
    const rows = [];
    for (const ex of [new OciRuntimeExecutor({ stateDir: join(work, "runc") }), new SandboxExecutor({ stateDir: join(work, "sandbox") })]) {
      if (!(await ex.available())) {
        rows.push({ executor: ex.name, "RUN true": "unavailable", "abort → killed": "" });
        continue;
      }
      await ex.run(spec(["true"]), {});
      const trues = [];
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        const r = await ex.run(spec(["true"]), {});
        trues.push(performance.now() - t);
        if (r.exitCode !== 0) throw new Error(`${ex.name}: RUN true exited ${r.exitCode}`);
      }
      const aborts = [];
      for (let i = 0; i < 3; i++) {
        const ac = new AbortController();
        const p = ex.run(spec(["sh", "-c", "sleep 1007 & sleep 1008"]), { signal: ac.signal });
        await new Promise((r) => setTimeout(r, 300));
        const t = performance.now();
        ac.abort();
        await p.then(
          () => {
            throw new Error(`${ex.name}: an aborted step finished`);
          },
          (e) => {
            if (e?.code !== "STRATA_RUN_ABORTED") throw e;
          },
        );
        aborts.push(performance.now() - t);
      }
      rows.push({ executor: ex.name, "RUN true": `${median(trues).toFixed(1)} ms`, "abort → killed": `${median(aborts).toFixed(0)} ms` });
    }
    printTable(`RUN executors (median of ${runs} runs; abort: of 3)`, rows);
    return rows;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
