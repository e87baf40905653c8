import { readFile } from "node:fs/promises";
import { StrataError } from "@strata/graph";
import { isNotFound, resolveInRoot } from "../sandbox-util/root-path.ts";
import type { ExecUser } from "./types.ts";

/** A resolved `USER`: the ids to run with, plus the passwd entry's home and name (for `HOME`). */
export interface ResolvedUser extends ExecUser {
  /** From the passwd entry; "/" when the user has none (as Docker does). */
  readonly home: string;
  readonly name?: string;
}

const MAX_ID = 2 ** 31 - 1;

/**
 * Resolves a Dockerfile `USER` value (`name`, `uid`, `name:group`, `uid:gid`, or empty for
 * root) against the image's `/etc/passwd` and `/etc/group`, with the rules of runc's
 * `user.GetExecUser` that `docker build` uses:
 * - a numeric user is a uid even when passwd has no entry for it (then gid 0, home "/");
 * - without an explicit group, gid and home come from the passwd entry and the supplementary
 *   groups are all groups in /etc/group that list the user's name;
 * - with an explicit group (name or number) there are no supplementary groups;
 * - `uid:gid`, both numeric, and an empty USER (0:0) have no supplementary groups, and
 *   /etc/group is not read.
 * A named user or group that does not exist is an error (`STRATA_RUN_USER_NOT_FOUND`,
 * `STRATA_RUN_GROUP_NOT_FOUND`).
 */
export async function resolveUser(rootfs: string, spec: string | undefined): Promise<ResolvedUser> {
  const value = spec ?? "";
  const colon = value.indexOf(":");
  const userArg = colon < 0 ? value : value.slice(0, colon);
  const groupArg = colon < 0 ? "" : value.slice(colon + 1);
  const uidArg = parseId(userArg);
  const gidArg = parseId(groupArg);

  if (value === "") {
    // No USER: BuildKit takes root as 0:0 without reading /etc/group (no supplementary groups).
    return { uid: 0, gid: 0, additionalGids: [], home: await homeForUid(rootfs, 0) };
  }
  if (uidArg !== undefined && gidArg !== undefined) {
    return { uid: uidArg, gid: gidArg, additionalGids: [], home: await homeForUid(rootfs, uidArg) };
  }

  const passwd = await readDbFile(rootfs, "/etc/passwd");
  let uid = 0;
  let gid = 0;
  let home = "/";
  let name: string | undefined;

  const users = (passwd ?? []).map(parsePasswdLine).filter((u): u is PasswdEntry => u !== undefined);
  const match = users.find((u) => (uidArg !== undefined ? u.uid === uidArg : u.name === userArg));
  if (match) {
    ({ uid, gid, home, name } = match);
  } else {
    if (uidArg === undefined) {
      throw new StrataError("STRATA_RUN_USER_NOT_FOUND", `unable to find user ${userArg}: no matching entries in passwd file`, {
        hint: `add the user to the image first (e.g. RUN adduser ${userArg}), or use a numeric uid`,
      });
    }
    uid = uidArg;
  }

  let additionalGids: number[] = [];
  if (groupArg !== "" || name !== undefined) {
    const groups = ((await readDbFile(rootfs, "/etc/group")) ?? [])
      .map(parseGroupLine)
      .filter((g): g is GroupEntry => g !== undefined);
    if (groupArg !== "") {
      const g = groups.find((e) => (gidArg !== undefined ? e.gid === gidArg : e.name === groupArg));
      if (g) gid = g.gid;
      else if (gidArg !== undefined) gid = gidArg;
      else {
        throw new StrataError("STRATA_RUN_GROUP_NOT_FOUND", `unable to find group ${groupArg}: no matching entries in group file`, {
          hint: `add the group to the image first (e.g. RUN addgroup ${groupArg}), or use a numeric gid`,
        });
      }
    } else {
      additionalGids = groups.filter((g) => g.members.includes(name!)).map((g) => g.gid);
    }
  }
  return { uid, gid, additionalGids, home, ...(name !== undefined ? { name } : {}) };
}

/**
 * The home directory runc gives a process whose environment has no HOME: the passwd entry of
 * the uid, else "/". Both executors apply it, so the environment is the same under either.
 */
export async function homeForUid(rootfs: string, uid: number): Promise<string> {
  const users = ((await readDbFile(rootfs, "/etc/passwd")) ?? []).map(parsePasswdLine);
  return users.find((u) => u?.uid === uid)?.home ?? "/";
}

interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}
interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

function parsePasswdLine(line: string): PasswdEntry | undefined {
  const f = line.split(":");
  if (f.length < 4 || line.startsWith("#")) return undefined;
  const uid = parseId(f[2] ?? "");
  const gid = parseId(f[3] ?? "");
  if (uid === undefined || gid === undefined) return undefined;
  return { name: f[0]!, uid, gid, home: f[5] || "/" };
}

function parseGroupLine(line: string): GroupEntry | undefined {
  const f = line.split(":");
  if (f.length < 3 || line.startsWith("#")) return undefined;
  const gid = parseId(f[2] ?? "");
  if (gid === undefined) return undefined;
  return { name: f[0]!, gid, members: (f[3] ?? "").split(",").filter((m) => m !== "") };
}

function parseId(s: string): number | undefined {
  if (!/^[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  if (n > MAX_ID) {
    throw new StrataError("STRATA_RUN_ID_RANGE", `user or group id ${s} is out of range (0..${MAX_ID})`);
  }
  return n;
}

/** The file's lines, read through the root's own symlinks; undefined when it does not exist. */
async function readDbFile(rootfs: string, path: string): Promise<string[] | undefined> {
  try {
    const text = await readFile(await resolveInRoot(rootfs, path), "utf8");
    return text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  } catch (e) {
    if (isNotFound(e) || (e as NodeJS.ErrnoException).code === "EISDIR") return undefined;
    throw e;
  }
}
