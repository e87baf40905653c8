import { StrataError } from "@strata/graph";
import type { BaseFs } from "./base-fs.ts";
import { resolveInRoot } from "./resolve-path.ts";

export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

/** `--chown` split into its user and optional group, each a numeric id or a name. */
export interface ChownSpec {
  readonly user: number | string;
  readonly group?: number | string;
}

export function parseChown(spec: string): ChownSpec {
  const colon = spec.indexOf(":");
  const userPart = colon < 0 ? spec : spec.slice(0, colon);
  const groupPart = colon < 0 ? undefined : spec.slice(colon + 1);
  if (userPart === "" || groupPart === "") {
    throw new StrataError("STRATA_COPY_BAD_CHOWN", `invalid --chown value ${JSON.stringify(spec)}`, { hint: "use user, user:group, uid or uid:gid" });
  }
  const user = idOrName(userPart);
  return groupPart === undefined ? { user } : { user, group: idOrName(groupPart) };
}

/** BuildKit's `parseUID`: `root` is 0 even without a passwd file; digits are an id. */
function idOrName(s: string): number | string {
  if (s === "root") return 0;
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n <= 0xffffffff) return n;
  }
  return s;
}

/**
 * Resolves `--chown` the way BuildKit does, against the *destination* image: a name is
 * looked up in its `/etc/passwd` (the user's primary group is the default group) and a group
 * name in its `/etc/group`; a numeric user without a group uses the same number as gid.
 * Unlike Docker 20.10's BuildKit, which silently falls back to 0 for an unknown name, an
 * unknown user or group is an error (the classic builder also refused it).
 */
export async function resolveChown(spec: string | ChownSpec, base: BaseFs): Promise<Owner> {
  const s = typeof spec === "string" ? parseChown(spec) : spec;
  let uid: number;
  let gid: number;
  if (typeof s.user === "number") {
    uid = s.user;
    gid = s.user;
  } else {
    const name = s.user;
    const entry = (await readDb(base, "etc/passwd")).find((f) => f[0] === name && f.length >= 4);
    if (!entry || !isId(entry[2]) || !isId(entry[3])) {
      throw new StrataError("STRATA_COPY_UNKNOWN_USER", `unknown user ${JSON.stringify(name)} for --chown: not in the image's /etc/passwd`, {
        hint: "create the user in an earlier step, or use a numeric uid",
      });
    }
    uid = Number(entry[2]);
    gid = Number(entry[3]);
  }
  if (s.group !== undefined) {
    if (typeof s.group === "number") gid = s.group;
    else {
      const name = s.group;
      const entry = (await readDb(base, "etc/group")).find((f) => f[0] === name && f.length >= 3);
      if (!entry || !isId(entry[2])) {
        throw new StrataError("STRATA_COPY_UNKNOWN_GROUP", `unknown group ${JSON.stringify(name)} for --chown: not in the image's /etc/group`, {
          hint: "create the group in an earlier step, or use a numeric gid",
        });
      }
      gid = Number(entry[2]);
    }
  }
  return { uid, gid };
}

function isId(s: string | undefined): boolean {
  return s !== undefined && /^\d+$/.test(s) && Number(s) <= 0xffffffff;
}

/** Lines of a colon-separated database, split; a missing file reads as empty (as in BuildKit). */
async function readDb(base: BaseFs, path: string): Promise<string[][]> {
  const resolved = resolveInRoot((p) => base.lstat(p), path);
  const bytes = await base.readFile(resolved);
  if (!bytes) return [];
  return new TextDecoder()
    .decode(bytes)
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => l.split(":"));
}
