import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_LINUX_PATH, StrataError, type ImageConfig } from "@strata/graph";
import type { OciImage } from "@strata/oci";
import { resolveUser, selectExecutor, type ExecResult } from "../executor/index.ts";
import { LayerStore } from "../layers/layer-store.ts";
import { prepareRootfs } from "../snapshot/index.ts";
import type { Store } from "../store/store.ts";

export interface RunImageOptions {
  /** Replaces the image's CMD (after its ENTRYPOINT). */
  readonly command?: readonly string[];
  readonly entrypoint?: readonly string[];
  readonly env?: readonly string[];
  readonly user?: string;
  readonly workdir?: string;
  readonly network?: "default" | "none" | "host";
  readonly executor?: "auto" | "runc" | "crun" | "sandbox";
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
  readonly signal?: AbortSignal;
}

/**
 * `strata run`: the image as a container in the build sandbox — its layers read-only (the
 * store's extracted snapshots), a throwaway writable layer on top, its entrypoint, cmd, env,
 * user and working directory — so an image can be tried with no Docker installed.
 */
export async function runImage(store: Store, image: OciImage, opts: RunImageOptions): Promise<ExecResult> {
  const layers = new LayerStore(store, 0);
  for (const l of image.layers) {
    if (!(await store.blobs.has(l.diffId))) await layers.import(await l.open(), l.diffId);
  }
  const lowerDirs = await Promise.all(image.layers.map((l) => layers.snapshot(l.diffId)));
  const cfg: ImageConfig = image.config.config ?? {};
  const entrypoint = opts.entrypoint ?? cfg.Entrypoint ?? [];
  const cmd = opts.command?.length ? opts.command : opts.entrypoint ? [] : (cfg.Cmd ?? []);
  const argv = [...entrypoint, ...cmd];
  if (!argv.length) throw new StrataError("STRATA_RUN_NO_COMMAND", "the image has no ENTRYPOINT or CMD, and no command was given", { hint: "strata run IMAGE -- COMMAND ARGS…" });
  const env = new Map<string, string>();
  for (const kv of [...(cfg.Env ?? []), ...(opts.env ?? [])]) {
    const eq = kv.indexOf("=");
    env.set(eq < 0 ? kv : kv.slice(0, eq), eq < 0 ? (process.env[kv] ?? "") : kv.slice(eq + 1));
  }
  if (!env.has("PATH")) env.set("PATH", DEFAULT_LINUX_PATH);
  const work = store.tmpDir("container");
  if (!lowerDirs.length) {
    mkdirSync(join(work, "empty"));
    lowerDirs.push(join(work, "empty"));
  }
  const rootfs = await prepareRootfs({ lowerDirs, upperDir: join(work, "upper"), workDir: join(work, "work"), mergedDir: join(work, "merged") });
  try {
    const user = await resolveUser(rootfs.mergedDir, opts.user ?? (cfg.User || undefined));
    const executor = await selectExecutor({ stateDir: store.path("run"), executor: opts.executor ?? "auto" });
    return await executor.run(
      {
        rootfs: rootfs.mergedDir,
        argv,
        env: [...env].map(([k, v]) => `${k}=${v}`),
        cwd: opts.workdir ?? (cfg.WorkingDir || "/"),
        user,
        mounts: [],
        network: opts.network ?? "default",
      },
      { onStdout: opts.stdout, onStderr: opts.stderr, ...(opts.signal ? { signal: opts.signal } : {}) },
    );
  } finally {
    await rootfs.unmount().catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
}
