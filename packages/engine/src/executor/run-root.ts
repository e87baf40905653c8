import { lstat, mkdir, rmdir, stat, unlink, utimes, writeFile, chown } from "node:fs/promises";
import { join } from "node:path/posix";
import { StrataError } from "@strata/graph";
import { isNotFound, resolveRelative } from "../sandbox-util/root-path.ts";
import type { ExecMount, ExecUser } from "./types.ts";

/** Mount points every executor sets up itself (the files are bound from per-run copies). */
export const SYSTEM_TARGETS: readonly { readonly target: string; readonly kind: "dir" | "file" }[] = [
  { target: "/proc", kind: "dir" },
  { target: "/dev", kind: "dir" },
  { target: "/sys", kind: "dir" },
  { target: "/etc/hosts", kind: "file" },
  { target: "/etc/resolv.conf", kind: "file" },
];

/** A user mount with its mount point resolved inside the root. */
export interface PlannedMount {
  readonly mount: ExecMount;
  /** Root-relative, symlink-free path of the mount point ("" never: the root cannot be a target). */
  readonly rel: string;
  readonly kind: "dir" | "file";
  /** Index (in the plan) of an earlier tmpfs mount this one lies inside; its mount point is made in that tmpfs. */
  readonly insideTmpfs?: number;
}

/**
 * Creates `cwd` if missing (each new directory 0755 and owned by the user, as BuildKit does
 * for a RUN's working directory). These directories stay: they are part of the step's result.
 */
export async function ensureCwd(rootfs: string, cwd: string, user: ExecUser): Promise<void> {
  const rel = await resolveRelative(rootfs, cwd);
  let cur = rootfs;
  for (const part of rel.split("/").filter((p) => p !== "")) {
    cur = join(cur, part);
    try {
      const st = await lstat(cur);
      if (!st.isDirectory()) {
        throw new StrataError("STRATA_RUN_CWD_NOT_DIR", `working directory ${cwd}: ${cur.slice(rootfs.length)} is not a directory`);
      }
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await mkdir(cur, { mode: 0o755 });
      await chown(cur, user.uid, user.gid);
    }
  }
}

/**
 * Resolves user mount targets inside the root (following the image's symlinks, never leaving
 * the root) and orders them parents first. A target below a bind or cache mount would have to
 * be created in the caller's host directory, and one below /proc, /sys or a file mount cannot
 * exist, so those are rejected; one below a tmpfs is made inside that tmpfs.
 */
export async function planMounts(rootfs: string, mounts: readonly ExecMount[]): Promise<PlannedMount[]> {
  const sorted = [...mounts].sort((a, b) => compareBytes(normalize(a.target), normalize(b.target)));
  const plan: PlannedMount[] = [];
  for (const mount of sorted) {
    if (!mount.target.startsWith("/") || normalize(mount.target) === "/") {
      throw new StrataError("STRATA_RUN_MOUNT_TARGET", `mount target ${JSON.stringify(mount.target)} must be an absolute path other than /`);
    }
    const kind = await mountKind(mount);
    let parentIdx = -1;
    for (let i = plan.length - 1; i >= 0; i--) {
      const p = plan[i]!;
      if (normalize(mount.target).startsWith(`${normalize(p.mount.target)}/`)) {
        parentIdx = i;
        break;
      }
    }
    if (parentIdx >= 0) {
      const parent = plan[parentIdx]!;
      if (parent.mount.type !== "tmpfs") {
        throw new StrataError(
          "STRATA_RUN_MOUNT_TARGET",
          `mount target ${mount.target} lies inside the ${parent.mount.type} mount at ${parent.mount.target}`,
          { hint: "mount targets may nest only inside a tmpfs mount" },
        );
      }
      const rest = normalize(mount.target).slice(normalize(parent.mount.target).length + 1);
      plan.push({ mount, rel: `${parent.rel}/${rest}`, kind, insideTmpfs: parentIdx });
      continue;
    }
    const rel = await resolveRelative(rootfs, mount.target);
    const top = rel.split("/")[0];
    if (rel === "" || top === "proc" || top === "sys") {
      throw new StrataError("STRATA_RUN_MOUNT_TARGET", `mount target ${mount.target} resolves to /${rel}, where nothing can be mounted`);
    }
    plan.push({ mount, rel, kind });
  }
  return plan;
}

async function mountKind(m: ExecMount): Promise<"dir" | "file"> {
  if (m.type === "tmpfs" || m.type === "cache") return "dir";
  if (m.type === "secret") return "file";
  try {
    return (await stat(m.source)).isDirectory() ? "dir" : "file";
  } catch (e) {
    throw new StrataError("STRATA_RUN_MOUNT_SOURCE", `bind mount source ${m.source} cannot be read: ${(e as Error).message}`, { cause: e });
  }
}

/** What {@link createStubs} made, so it can be undone after the run. */
export interface Stubs {
  /** Removes the stubs that are still empty and gives their parents back their mtimes. */
  remove(): Promise<void>;
}

/**
 * Creates missing mount points in the root (root-owned, 0755 directories or empty 0644
 * files) and records them. Like BuildKit's mount-stub cleaner, they are removed after the
 * run so that a RUN with a cache mount at /root/.cache does not leave an empty directory in
 * its layer; the parent directory's times are restored so it does not count as changed.
 */
export async function createStubs(
  rootfs: string,
  targets: readonly { readonly rel: string; readonly kind: "dir" | "file" }[],
): Promise<Stubs> {
  const created: { path: string; kind: "dir" | "file" }[] = [];
  const parents = new Map<string, { atime: Date; mtime: Date }>();
  try {
    for (const t of targets) {
      const parts = t.rel.split("/").filter((p) => p !== "");
      let cur = rootfs;
      for (let i = 0; i < parts.length; i++) {
        const next = join(cur, parts[i]!);
        const last = i === parts.length - 1;
        let exists = true;
        try {
          await lstat(next);
        } catch (e) {
          if (!isNotFound(e)) throw e;
          exists = false;
        }
        if (!exists) {
          if (!parents.has(cur) && !created.some((c) => c.path === cur)) {
            const st = await stat(cur);
            parents.set(cur, { atime: st.atime, mtime: st.mtime });
          }
          if (last && t.kind === "file") await writeFile(next, "", { mode: 0o644, flag: "wx" });
          else await mkdir(next, { mode: 0o755 });
          created.push({ path: next, kind: last ? t.kind : "dir" });
        }
        cur = next;
      }
    }
  } catch (e) {
    await removeStubs(created, parents);
    throw e;
  }
  return { remove: () => removeStubs(created, parents) };
}

async function removeStubs(
  created: readonly { path: string; kind: "dir" | "file" }[],
  parents: ReadonlyMap<string, { atime: Date; mtime: Date }>,
): Promise<void> {
  for (const c of [...created].reverse()) {
    try {
      const st = await lstat(c.path);
      if (c.kind === "dir" && st.isDirectory()) await rmdir(c.path);
      else if (c.kind === "file" && st.isFile() && st.size === 0) await unlink(c.path);
    } catch {
      // Not empty any more, or already gone: the step made it its own.
    }
  }
  for (const [dir, t] of parents) {
    try {
      await utimes(dir, t.atime, t.mtime);
    } catch {
      // The step removed the directory itself.
    }
  }
}

function normalize(p: string): string {
  const parts: string[] = [];
  for (const s of p.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") parts.pop();
    else parts.push(s);
  }
  return `/${parts.join("/")}`;
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
