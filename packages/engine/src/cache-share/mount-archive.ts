import { createReadStream, existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { digestHex, type Digest } from "@strata/graph";
import { StrataError } from "@strata/graph";
import { decompressed, extractLayer, readLayerEntries, writeLayer, type LayerEntry } from "@strata/oci";
import type { Store } from "../store/store.ts";

/**
 * The entries of a cache mount's directory, for its archive. Walked with lstat and never
 * followed: a symlink is archived as a symlink, sockets and devices are skipped. Returns
 * undefined when the contents exceed `max` bytes (the mount is then not exported). Secrets
 * never live here: they are files in a private tmpfs (/dev/shm) bind-mounted into the step.
 */
function mountEntries(dir: string, max: number): { entries: LayerEntry[]; bytes: number } | undefined {
  const entries: LayerEntry[] = [];
  let bytes = 0;
  const walk = (rel: string): boolean => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const abs = join(dir, path);
      const st = lstatSync(abs);
      const base = { path, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
      if (st.isDirectory()) {
        entries.push({ ...base, type: "directory" });
        if (!walk(path)) return false;
      } else if (st.isFile()) {
        bytes += st.size;
        if (bytes > max) return false;
        entries.push({ ...base, type: "file", size: st.size, content: { path: abs } });
      } else if (st.isSymbolicLink()) {
        entries.push({ ...base, type: "symlink", linkname: readlinkSync(abs) });
      }
    }
    return true;
  };
  if (!existsSync(dir)) return { entries, bytes };
  return walk("") ? { entries, bytes } : undefined;
}

/** Writes a cache mount's archive (an uncompressed tar) into the store; its digest is its diffID. */
export async function packMount(store: Store, dir: string, max: number): Promise<{ diffId: Digest; size: number } | "too-big" | undefined> {
  const got = mountEntries(dir, max);
  if (!got) return "too-big";
  if (!got.entries.length) return undefined;
  const r = await writeLayer(got.entries, { to: { store: store.blobs }, sourceDateEpoch: Number.MAX_SAFE_INTEGER });
  return { diffId: r.diffId, size: r.size };
}

/**
 * Fills an absent cache mount directory from an archive blob in the store: decompressed and
 * verified against `diffId`, extracted (never outside the directory: the extractor refuses
 * `..` and symlink escapes) into a temp directory, renamed into place. A concurrent build that
 * made the directory first wins.
 */
export async function unpackMount(store: Store, blob: Digest, diffId: Digest, dir: string): Promise<void> {
  if (blob !== diffId) await store.blobs.put(Readable.from(decompressed(await store.blobs.open(blob))), { digest: diffId });
  // A cache mount holds what mountEntries writes: directories, files, symlinks. Anything else
  // (a device node a step could open, a whiteout, a hard link) means a hostile archive.
  for await (const e of readLayerEntries(createReadStream(store.blobs.pathOf(diffId), { highWaterMark: 1 << 20 }))) {
    if (e.type !== "directory" && e.type !== "file" && e.type !== "symlink") {
      throw new StrataError("STRATA_CACHE_BLOB_INVALID", `the cache mount archive holds a ${e.type} (${JSON.stringify(e.path)}); only directories, files and symlinks are allowed`);
    }
  }
  const tmp = join(store.path("tmp"), `mount-${digestHex(diffId).slice(0, 12)}-${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(tmp, { recursive: true });
  try {
    await extractLayer(createReadStream(store.blobs.pathOf(diffId), { highWaterMark: 1 << 20 }), tmp, { mode: "apply" });
    mkdirSync(join(dir, ".."), { recursive: true });
    if (!existsSync(dir)) renameSync(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
