import { StrataError } from "@strata/graph";
import type { LayerEntry } from "../layer-entry.ts";

export const WHITEOUT_PREFIX = ".wh.";
export const OPAQUE_MARKER = ".wh..wh..opq";

/** An entry with the archive name it will be written under and its sort key. */
export interface PlacedEntry {
  readonly entry: LayerEntry;
  /** Name in the tar (directories end with `/`, whiteouts are `.wh.` files). */
  readonly tarName: string;
  readonly key: Buffer;
}

/**
 * Validates, de-duplicates and orders layer entries so that identical content gives
 * identical bytes whatever order producers yield entries in:
 * - paths are compared bytewise on their UTF-8 form, which puts every parent before its
 *   children (a prefix sorts first);
 * - a whiteout sorts where the path it deletes would, just before a replacement of it;
 * - an opaque marker sorts right after its directory, before the directory's children, so
 *   an extractor hides the lower content before this layer's own content arrives;
 * - when two entries have the same archive name, the later one in input order wins
 *   (producers such as COPY overlay several sources onto one destination);
 * - hard links are re-pointed so the first member of a link group in archive order holds
 *   the content and the others link to it (an extractor can only link to what it has
 *   already written).
 */
export function orderEntries(entries: readonly LayerEntry[]): PlacedEntry[] {
  const byName = new Map<string, LayerEntry>();
  for (const e of entries) {
    checkEntry(e);
    byName.set(tarNameOf(e), e);
  }
  checkAncestors(byName);
  const placed: PlacedEntry[] = [];
  for (const [tarName, entry] of byName) placed.push({ entry, tarName, key: sortKey(entry) });
  placed.sort((a, b) => Buffer.compare(a.key, b.key));
  return relinkHardlinks(placed);
}

function tarNameOf(e: LayerEntry): string {
  switch (e.type) {
    case "directory":
      return `${e.path}/`;
    case "whiteout":
      return joinName(dirname(e.path), WHITEOUT_PREFIX + basename(e.path));
    case "opaque":
      return joinName(e.path, OPAQUE_MARKER);
    default:
      return e.path;
  }
}

/**
 * Sort by the UTF-8 bytes of the path the entry is about; on a tie, a whiteout of `x` comes
 * before a new `x` (Docker's extractor deletes whatever the whiteout names, even content of
 * the same layer) and an opaque marker of `d` right after `d` itself.
 */
function sortKey(e: LayerEntry): Buffer {
  const rank = e.type === "whiteout" ? 0 : e.type === "opaque" ? 2 : 1;
  return Buffer.concat([Buffer.from(e.path, "utf8"), Buffer.from([0, rank])]);
}

function relinkHardlinks(placed: PlacedEntry[]): PlacedEntry[] {
  const links = placed.filter((p) => p.entry.type === "hardlink");
  if (links.length === 0) return placed;
  const index = new Map<string, number>();
  placed.forEach((p, i) => {
    if (p.entry.type !== "whiteout" && p.entry.type !== "opaque") index.set(p.entry.path, i);
  });
  // Follow link chains to the entry that holds the content.
  const rootOf = (path: string, seen = new Set<string>()): number => {
    const i = index.get(path);
    if (i === undefined) {
      throw new StrataError("STRATA_LAYER_HARDLINK_TARGET", `hard link target ${JSON.stringify(path)} is not in the layer`, {
        hint: "a hard link may only point at a regular file written in the same layer",
      });
    }
    const e = (placed[i] as PlacedEntry).entry;
    if (e.type !== "hardlink") {
      if (e.type === "directory" || e.type === "whiteout" || e.type === "opaque") {
        throw new StrataError("STRATA_LAYER_HARDLINK_TARGET", `hard link to ${JSON.stringify(path)}, which is a ${e.type}`);
      }
      return i;
    }
    if (seen.has(path)) throw new StrataError("STRATA_LAYER_HARDLINK_TARGET", `hard link cycle through ${JSON.stringify(path)}`);
    seen.add(path);
    return rootOf(e.linkname, seen);
  };
  const groups = new Map<number, number[]>();
  for (let i = 0; i < placed.length; i++) {
    const e = (placed[i] as PlacedEntry).entry;
    if (e.type !== "hardlink") continue;
    const r = rootOf(e.path);
    const g = groups.get(r) ?? [r];
    g.push(i);
    groups.set(r, g);
  }
  const out = placed.slice();
  for (const [holder, members] of groups) {
    members.sort((a, b) => a - b);
    const first = members[0] as number;
    const holderEntry = (placed[holder] as PlacedEntry).entry;
    if (first !== holder) {
      // The content moves to the first member; the old holder becomes a link to it.
      const firstPlaced = placed[first] as PlacedEntry;
      const oldHolder = placed[holder] as PlacedEntry;
      out[first] = { ...firstPlaced, entry: { ...holderEntry, path: firstPlaced.entry.path } as LayerEntry };
      out[holder] = { ...oldHolder, entry: asLink(holderEntry, firstPlaced.entry.path) };
    }
    const target = (out[first] as PlacedEntry).entry.path;
    for (const m of members) {
      if (m === first || m === holder) continue;
      const p = placed[m] as PlacedEntry;
      out[m] = { ...p, entry: asLink(p.entry, target) };
    }
  }
  return out;
}

function asLink(e: LayerEntry, linkname: string): LayerEntry {
  if (e.type === "whiteout" || e.type === "opaque") return e;
  return { path: e.path, type: "hardlink", linkname, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime, ...owners(e) };
}

function owners(e: { readonly uname?: string; readonly gname?: string }): { uname?: string; gname?: string } {
  return { ...(e.uname !== undefined ? { uname: e.uname } : {}), ...(e.gname !== undefined ? { gname: e.gname } : {}) };
}

/** Nothing may sit below a path that this layer makes a file, symlink or other non-directory. */
function checkAncestors(byName: ReadonlyMap<string, LayerEntry>): void {
  const nonDirs = new Map<string, string>();
  for (const e of byName.values()) {
    if (e.type !== "directory" && e.type !== "whiteout" && e.type !== "opaque") nonDirs.set(e.path, e.type);
  }
  if (nonDirs.size === 0) return;
  for (const e of byName.values()) {
    for (let i = e.path.indexOf("/"); i >= 0; i = e.path.indexOf("/", i + 1)) {
      const type = nonDirs.get(e.path.slice(0, i));
      if (type === undefined) continue;
      throw new StrataError("STRATA_LAYER_BAD_PATH", `layer entry ${JSON.stringify(e.path)} is below ${JSON.stringify(e.path.slice(0, i))}, which this layer makes a ${type}`, {
        hint: "a layer cannot hold entries below a file or symlink it also contains",
      });
    }
  }
}

function checkEntry(e: LayerEntry): void {
  const allowRoot = e.type === "opaque";
  if (!isCleanPath(e.path, allowRoot)) {
    throw new StrataError("STRATA_LAYER_BAD_PATH", `layer entry path ${JSON.stringify(e.path)} is not a clean relative path`, {
      hint: "paths are relative to the root, '/'-separated, with no leading '/', './', '..', empty or trailing components",
    });
  }
  if (e.type !== "whiteout" && e.type !== "opaque" && basename(e.path).startsWith(WHITEOUT_PREFIX)) {
    throw new StrataError("STRATA_LAYER_RESERVED_NAME", `${JSON.stringify(e.path)} uses the reserved whiteout prefix ".wh."`, {
      hint: "OCI layers cannot contain files whose names start with .wh.; they mean deletions",
    });
  }
  if (e.type === "whiteout" || e.type === "opaque") return;
  if (!Number.isInteger(e.mode) || e.mode < 0 || e.mode > 0o7777) badField(e.path, "mode", e.mode);
  if (!Number.isSafeInteger(e.uid) || e.uid < 0) badField(e.path, "uid", e.uid);
  if (!Number.isSafeInteger(e.gid) || e.gid < 0) badField(e.path, "gid", e.gid);
  if (!Number.isFinite(e.mtime)) badField(e.path, "mtime", e.mtime);
  if (e.type === "file" && (!Number.isSafeInteger(e.size) || e.size < 0)) badField(e.path, "size", e.size);
  if (e.type === "file" && "bytes" in e.content && e.content.bytes.length !== e.size) badField(e.path, `size (content has ${e.content.bytes.length} bytes)`, e.size);
  if ((e.type === "symlink" || e.type === "hardlink") && (e.linkname === "" || e.linkname.includes("\0"))) badField(e.path, "linkname", e.linkname);
  if (e.type === "hardlink" && !isCleanPath(e.linkname, false)) badField(e.path, "linkname", e.linkname);
  if (e.type === "char-device" || e.type === "block-device") {
    if (!Number.isInteger(e.devmajor) || e.devmajor < 0 || e.devmajor > 0o7777777) badField(e.path, "devmajor", e.devmajor);
    if (!Number.isInteger(e.devminor) || e.devminor < 0 || e.devminor > 0o7777777) badField(e.path, "devminor", e.devminor);
  }
}

function badField(path: string, field: string, value: unknown): never {
  throw new StrataError("STRATA_LAYER_BAD_ENTRY", `layer entry ${JSON.stringify(path)} has an invalid ${field}: ${JSON.stringify(value)}`);
}

function isCleanPath(p: string, allowRoot: boolean): boolean {
  if (p === "") return allowRoot;
  if (p.includes("\0") || p.startsWith("/") || p.endsWith("/")) return false;
  for (const part of p.split("/")) if (part === "" || part === "." || part === "..") return false;
  return true;
}

function dirname(p: string): string {
  const i = p.lastIndexOf("/");
  return i < 0 ? "" : p.slice(0, i);
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

function joinName(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}
