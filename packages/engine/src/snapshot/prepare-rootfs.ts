import { mkdir, readdir } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import type { LayerEntry } from "@strata/oci";
import { StrataError } from "@strata/graph";
import { copyLowers, diffCopy, type CopyManifest } from "./copy-rootfs.ts";
import { diffUpperDir } from "./overlay-diff.ts";
import { mountOverlay } from "./overlay-mount.ts";

export type SnapshotMode = "overlay" | "copy";

export interface PrepareRootfsOptions {
  /**
   * Extracted layers, bottom → top, in overlayfs format: deletions as 0/0 character devices,
   * opaque directories with `trusted.overlay.opaque=y` (what @strata/oci's extractor writes in
   * overlay mode, and what an earlier step's upper directory already is).
   */
  readonly lowerDirs: readonly string[];
  /** Receives the step's changes (overlay mode). Created if missing; must be empty. */
  readonly upperDir: string;
  /** overlayfs' work directory, on the same file system as `upperDir`. Created if missing; must be empty. */
  readonly workDir: string;
  /** Where the root filesystem appears. Created if missing; must be empty. */
  readonly mergedDir: string;
  /**
   * "auto" (default): overlayfs when it can be mounted here, else the copy; "overlay" fails
   * instead of falling back; "copy" forces the copy (tests, hosts where overlay misbehaves).
   */
  readonly mode?: SnapshotMode | "auto";
}

/** A prepared root filesystem for one step. */
export interface Rootfs {
  readonly mode: SnapshotMode;
  readonly mergedDir: string;
  /**
   * The lowers a following step stacks to see this step's result (after {@link unmount}):
   * overlay: the lowers plus the upper directory; copy: the merged copy alone (it is complete).
   */
  readonly nextLowerDirs: readonly string[];
  /**
   * The step's changes as sorted layer entries (see @strata/oci `LayerEntry`); file contents
   * are referenced by path (in `upperDir` for overlay, `mergedDir` for the copy), so write the
   * layer before removing those directories. Works before or after {@link unmount}.
   */
  diff(): Promise<LayerEntry[]>;
  /** Unmounts whatever was mounted; idempotent, safe after a failure. */
  unmount(): Promise<void>;
}

/**
 * Prepares the root filesystem a RUN step executes in: an overlay of the lowers with a fresh
 * upper directory, or, where overlayfs is unavailable (e.g. inside an unprivileged container,
 * or a store on overlayfs), a copy of the merged lowers that is diffed afterwards. Both give
 * the same entries for the same command.
 */
export async function prepareRootfs(opts: PrepareRootfsOptions): Promise<Rootfs> {
  for (const [name, p] of [
    ["upperDir", opts.upperDir],
    ["workDir", opts.workDir],
    ["mergedDir", opts.mergedDir],
    ...opts.lowerDirs.map((d, i) => [`lowerDirs[${i}]`, d] as const),
  ] as const) {
    if (!isAbsolute(p)) throw new StrataError("STRATA_SNAPSHOT_PATH", `${name} must be an absolute path: ${p}`);
  }
  const upper = resolve(opts.upperDir);
  const work = resolve(opts.workDir);
  const merged = resolve(opts.mergedDir);
  const lowers = opts.lowerDirs.map((d) => resolve(d));
  for (const d of [upper, work, merged]) {
    await mkdir(d, { recursive: true, mode: 0o755 });
    if ((await readdir(d)).length > 0) throw new StrataError("STRATA_SNAPSHOT_PATH", `${d} is not empty`);
  }
  const mode = opts.mode ?? "auto";
  if (mode !== "copy") {
    try {
      const unmount = await mountOverlay(lowers, upper, work, merged);
      return overlayRootfs(lowers, upper, merged, unmount);
    } catch (e) {
      if (mode === "overlay") throw e;
    }
  }
  const manifest = await copyLowers(lowers, merged, work);
  return copyRootfs(merged, manifest);
}

/** Runs `fn` with a prepared root filesystem and always unmounts it afterwards. */
export async function withRootfs<T>(opts: PrepareRootfsOptions, fn: (rootfs: Rootfs) => Promise<T>): Promise<T> {
  const rootfs = await prepareRootfs(opts);
  try {
    return await fn(rootfs);
  } finally {
    await rootfs.unmount();
  }
}

function overlayRootfs(lowers: readonly string[], upper: string, merged: string, unmountAll: () => Promise<void>): Rootfs {
  let unmounting: Promise<void> | undefined;
  return {
    mode: "overlay",
    mergedDir: merged,
    nextLowerDirs: [...lowers, upper],
    diff: () => diffUpperDir(upper, lowers),
    unmount: () => (unmounting ??= unmountAll()),
  };
}

function copyRootfs(merged: string, manifest: CopyManifest): Rootfs {
  return {
    mode: "copy",
    mergedDir: merged,
    nextLowerDirs: [merged],
    diff: () => diffCopy(merged, manifest),
    unmount: async () => {},
  };
}
