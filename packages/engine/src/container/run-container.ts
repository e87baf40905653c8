import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { constants } from "node:os";
import { StrataError } from "@strata/graph";
import type { OciImage } from "@strata/oci";
import { resolveUser, selectExecutor, type ExecMount, type ExecNetwork, type ExecutorChoice, type PortMapping } from "../executor/index.ts";
import { LayerStore } from "../layers/layer-store.ts";
import { prepareRootfs } from "../snapshot/index.ts";
import { acquireBuildLock } from "../store/locks.ts";
import type { Store } from "../store/store.ts";
import { createContainerDirs, recordExit } from "./container-dirs.ts";
import { checkPlatform } from "./platform.ts";
import { containerProcess, exposedPorts, type ProcessOverrides } from "./process-config.ts";
import { proxySignals } from "./signal-proxy.ts";

export interface RunContainerOptions extends ProcessOverrides {
  /** The image as the user named it (for messages and the container record). */
  readonly imageName: string;
  /** `--name`: keep the writable layer under that name until `strata rm` (unless `rm`). */
  readonly name?: string;
  /** `--rm`: remove the container at exit (always so without a name). */
  readonly rm?: boolean;
  /** `-i`: this is piped to the container's stdin (closed at its end); without it stdin is /dev/null. */
  readonly stdin?: NodeJS.ReadableStream;
  /** `-v` and `--mount`, already parsed ({@link parseVolume}, {@link parseMount}). */
  readonly mounts?: readonly ExecMount[];
  /** `-p`, already parsed (`parsePortMapping`); forwarded by the user-mode network stack. */
  readonly publish?: readonly PortMapping[];
  readonly network?: ExecNetwork;
  /** `--platform`: must be the image's platform (emulation is not there yet). */
  readonly platform?: string;
  readonly executor?: ExecutorChoice;
  /** Raw output bytes (without a terminal; with one, the runtime writes to this process's own stdio). */
  readonly stdout: (chunk: Buffer) => void;
  readonly stderr: (chunk: Buffer) => void;
  /** One line for the user that is not the container's output (notes, warnings). */
  readonly note?: (line: string) => void;
  /** The environment `-e KEY` (without a value) reads; default process.env. */
  readonly hostEnv?: NodeJS.ProcessEnv;
}

export interface ContainerExit {
  /** As docker reports it: the process's status, 128 + n when signal n ended it. */
  readonly exitCode: number;
  readonly signal?: NodeJS.Signals;
}

/**
 * `strata run`: an image as a container. The image's layers are the store's extracted snapshots,
 * stacked read-only under overlayfs with a fresh writable layer on top (discarded at exit, or
 * kept with a name); the process runs with the same isolation as a RUN step (the executors of
 * the build), with the image's Entrypoint/Cmd, Env, WorkingDir and User and the overrides.
 * Signals sent to this process go to the container's PID 1 ({@link proxySignals}); the result
 * is the container's exit status. Holds the store's build lock meanwhile, so `strata cache
 * prune` does not remove the snapshots under a running container. Nothing stays mounted.
 */
export async function runContainer(store: Store, image: OciImage, opts: RunContainerOptions): Promise<ContainerExit> {
  checkPlatform(image.config, opts.platform);
  const proc = containerProcess(image.config.config ?? {}, opts, opts.hostEnv ?? process.env);
  for (const n of proc.notes) opts.note?.(`note: ${n}`);
  const exposed = exposedPorts(image.config.config ?? {});
  // Only when the image's own command runs (likely its server): a one-off command needs no reminder.
  if (exposed.length && !opts.command?.length && !opts.publish?.length && opts.network !== "host") {
    opts.note?.(`note: the image exposes ${exposed.join(", ")}; publish with -p HOST_PORT:CONTAINER_PORT`);
  }
  if (opts.publish?.length && opts.network !== undefined && opts.network !== "default") {
    throw new StrataError("STRATA_RUN_BAD_PUBLISH", `-p needs the default network, not --network ${opts.network}`, {
      hint: opts.network === "host" ? "with --network host the container's ports are the host's already" : "drop --network none",
    });
  }
  const signals = proxySignals({ terminal: !!opts.terminal, onForce: () => opts.note?.("strata: killing the container (third interrupt)") });
  const release = await acquireBuildLock(store);
  try {
    const layers = new LayerStore(store, 0);
    for (const l of image.layers) {
      if (!(await store.blobs.has(l.diffId))) await layers.import(await l.open(), l.diffId);
    }
    const lowerDirs = await Promise.all(image.layers.map((l) => layers.snapshot(l.diffId)));
    if (signals.early.aborted) return interrupted(signals.early);
    const dirs = createContainerDirs(store, opts.name, {
      image: opts.imageName,
      manifest: image.manifestDigest,
      argv: proc.argv,
      created: new Date().toISOString(),
      pid: process.pid,
    });
    const remove = !dirs.keep || opts.rm === true;
    try {
      if (!lowerDirs.length) {
        mkdirSync(join(dirs.dir, "empty"), { recursive: true });
        lowerDirs.push(join(dirs.dir, "empty"));
      }
      const rootfs = await prepareRootfs({ lowerDirs, upperDir: dirs.upper, workDir: dirs.work, mergedDir: dirs.merged });
      try {
        const user = await resolveUser(rootfs.mergedDir, proc.user || undefined);
        const executor = await selectExecutor({ stateDir: store.path("run"), executor: opts.executor ?? "auto" });
        if (signals.early.aborted) return interrupted(signals.early);
        const r = await executor.run(
          { rootfs: rootfs.mergedDir, argv: proc.argv, env: proc.env, cwd: proc.cwd, user, mounts: opts.mounts ?? [], network: opts.network ?? "default", ports: opts.publish ?? [] },
          {
            signal: signals.early,
            container: {
              ...(opts.stdin ? { stdin: opts.stdin } : {}),
              ...(opts.terminal ? { terminal: true, ...(terminalSize() ? { terminalSize: terminalSize()! } : {}) } : {}),
              onStdoutData: opts.stdout,
              onStderrData: opts.stderr,
              onStarted: (c) => signals.attach(c),
            },
          },
        );
        if (dirs.keep) recordExit(dirs, r.exitCode);
        return r.signal ? { exitCode: r.exitCode, signal: r.signal } : { exitCode: r.exitCode };
      } catch (e) {
        if (e instanceof StrataError && e.code === "STRATA_RUN_ABORTED") return interrupted(signals.early);
        throw e;
      } finally {
        await rootfs.unmount().catch(() => {});
      }
    } finally {
      if (remove) rmSync(dirs.dir, { recursive: true, force: true });
    }
  } finally {
    release();
    signals.dispose();
  }
}

/** A signal before the container started: nothing ran, the status is the signal's (130 for Ctrl-C), as a shell reports it. */
function interrupted(early: AbortSignal): ContainerExit {
  const sig = (early.reason as NodeJS.Signals | undefined) ?? "SIGINT";
  return { exitCode: 128 + (constants.signals[sig] ?? 2), signal: sig };
}

/** The size of the terminal this process writes to (what the container's pty starts with). */
function terminalSize(): { rows: number; columns: number } | undefined {
  for (const s of [process.stdout, process.stderr]) {
    if (s.isTTY) {
      const [columns, rows] = s.getWindowSize();
      if (columns > 0 && rows > 0) return { rows, columns };
    }
  }
  return undefined;
}
