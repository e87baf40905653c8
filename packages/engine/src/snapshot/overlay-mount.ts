import { mkdir, readFile, rm, symlink } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { StrataError } from "@strata/graph";
import { runChecked, runCommand } from "../sandbox-util/command.ts";
import { readMountInfo } from "../sandbox-util/mountinfo.ts";

/** mount(2) copies at most one page of option data; keep a margin for what mount(8) adds. */
const MAX_OPTIONS = 3900;
/** The kernel's limit on lower layers of one overlay (OVL_MAX_STACK). */
const MAX_LOWERS = 500;

/**
 * Mounts `lowerDirs` (bottom→top) + upper + work as an overlay at `mergedDir`, read-write.
 * Paths are passed relative to their common parent directory (mount(8) runs there), which keeps
 * the option string short. When it still exceeds the page mount(2) accepts, the lowers are
 * passed through short symlinks (`0`, `1`, …) in a scratch directory `<mergedDir>-lowers`; the
 * kernel resolves them at mount time, so the directory is removed right after. That fits
 * overlayfs' own limit of 500 lowers. (Stacking groups of lowers as nested overlays would be
 * wrong: a whiteout at the bottom of a group would hide nothing.)
 * With no lowers the upper directory is bind-mounted.
 *
 * Features that would make the upper directory hard to read as a layer (redirect_dir, metacopy,
 * index) are turned off when the kernel enables them by default.
 * Returns the function that unmounts it.
 */
export async function mountOverlay(
  lowerDirs: readonly string[],
  upperDir: string,
  workDir: string,
  mergedDir: string,
): Promise<() => Promise<void>> {
  const merged = resolve(mergedDir);
  const unmount = () => unmountPath(merged);
  if (lowerDirs.length === 0) {
    await runChecked("STRATA_SNAPSHOT_MOUNT", ["mount", "--bind", resolve(upperDir), merged]);
    return unmount;
  }
  if (lowerDirs.length > MAX_LOWERS) {
    throw new StrataError("STRATA_SNAPSHOT_MOUNT", `overlayfs stacks at most ${MAX_LOWERS} layers, this root has ${lowerDirs.length}`);
  }
  const features = await featureOptions();
  const topFirst = [...lowerDirs].map((d) => resolve(d)).reverse();
  const options = (lowers: readonly string[], upper: string, work: string) =>
    [`lowerdir=${lowers.join(":")}`, `upperdir=${upper}`, `workdir=${work}`, ...features].join(",");
  const cwd = commonParent([...topFirst, resolve(upperDir), resolve(workDir)]);
  const direct = tryRelative(cwd, [...topFirst, upperDir, workDir]);
  if (direct) {
    const opts = options(direct.slice(0, -2), direct.at(-2)!, direct.at(-1)!);
    if (opts.length <= MAX_OPTIONS) {
      await runChecked("STRATA_SNAPSHOT_MOUNT", ["mount", "-t", "overlay", "overlay", "-o", opts, merged], { cwd });
      return unmount;
    }
  }
  const links = `${merged}-lowers`;
  await rm(links, { recursive: true, force: true });
  await mkdir(links, { mode: 0o700 });
  try {
    await Promise.all(topFirst.map((l, i) => symlink(l, join(links, String(i)))));
    await symlink(resolve(upperDir), join(links, "u"));
    await symlink(resolve(workDir), join(links, "w"));
    const short = options(topFirst.map((_, i) => String(i)), "u", "w");
    await runChecked("STRATA_SNAPSHOT_MOUNT", ["mount", "-t", "overlay", "overlay", "-o", short, merged], { cwd: links });
  } finally {
    await rm(links, { recursive: true, force: true });
  }
  return unmount;
}

let featureCache: Promise<string[]> | undefined;

async function featureOptions(): Promise<string[]> {
  featureCache ??= (async () => {
    const opts: string[] = [];
    for (const [param, off] of [
      ["redirect_dir", "redirect_dir=off"],
      ["metacopy", "metacopy=off"],
      ["index", "index=off"],
    ] as const) {
      const v = (await readFile(`/sys/module/overlay/parameters/${param}`, "utf8").catch(() => "N")).trim();
      if (v === "Y" || v === "on") opts.push(off);
    }
    return opts;
  })();
  return featureCache;
}


function commonParent(paths: readonly string[]): string {
  const split = paths.map((p) => p.split(sep));
  const first = split[0]!;
  let n = 0;
  while (n < first.length - 1 && split.every((s) => s.length > n + 1 && s[n] === first[n])) n++;
  return first.slice(0, n).join(sep) || sep;
}

/**
 * Paths relative to `cwd`, or undefined when one cannot be passed in overlay options (they are
 * split on `,` and `:`, and mount(8) splits on white space); the symlink route takes over then.
 */
function tryRelative(cwd: string, paths: readonly string[]): string[] | undefined {
  const out = paths.map((p) => relative(cwd, resolve(p)) || ".");
  return out.some((r) => /[,:=\\\s]/.test(r)) ? undefined : out;
}

/**
 * Unmounts `path` while it is a mount point: plainly first, retried briefly while busy (a dying
 * step may still hold it), then detached (lazy) so that nothing stays visible.
 */
async function unmountPath(path: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    if (!(await isMountPoint(path))) return;
    const r = await runCommand(["umount", path]);
    if (r.code === 0) continue;
    if (!/busy/i.test(r.stderr)) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  if (await isMountPoint(path)) await runChecked("STRATA_SNAPSHOT_UNMOUNT", ["umount", "--lazy", path]);
}

async function isMountPoint(path: string): Promise<boolean> {
  const abs = resolve(path);
  return (await readMountInfo()).some((m) => m.mountPoint === abs);
}

/**
 * Unmounts every mount at or below `dir`, deepest first: for a store after a crash (a killed
 * build cannot unmount its overlays) and for tests. Returns the mount points it removed.
 */
export async function unmountAllUnder(dir: string): Promise<string[]> {
  const abs = resolve(dir);
  const points = (await readMountInfo())
    .map((m) => m.mountPoint)
    .filter((p) => p === abs || p.startsWith(`${abs}/`))
    .sort((a, b) => b.length - a.length);
  for (const p of [...new Set(points)]) await unmountPath(p);
  return [...new Set(points)];
}
