import type { Digest } from "@strata/graph";
import { openTarget } from "../io/blob-target.ts";
import { HashingSink } from "../io/byte-sink.ts";
import { TypeFlag } from "../tar/header.ts";
import { TarBuilder } from "../tar/tar-builder.ts";

/** A member of an image archive (OCI archive, docker-archive). */
export type ArchiveMember =
  | { readonly name: string; readonly dir: true }
  | { readonly name: string; readonly bytes: Uint8Array }
  | { readonly name: string; readonly size: number; readonly open: () => Promise<AsyncIterable<Uint8Array>> }
  /** Content streamed from a local file. */
  | { readonly name: string; readonly size: number; readonly path: string };

/** Where an archive goes: a file (written atomically) or a stream (not ended). */
export type ArchiveTarget = { readonly file: string } | { readonly stream: NodeJS.WritableStream };

/**
 * Writes members in the given order as a deterministic tar (root-owned, mode 0644/0755,
 * mtime 0): the same image gives the same archive bytes.
 */
export async function writeArchive(members: readonly ArchiveMember[], target: ArchiveTarget): Promise<{ digest: Digest; size: number }> {
  const t = await openTarget(target);
  const hash = new HashingSink(t.sink);
  try {
    const tar = new TarBuilder(hash);
    for (const m of members) {
      if ("dir" in m) {
        await tar.header({ name: `${m.name}/`, typeflag: TypeFlag.Directory, mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 });
        continue;
      }
      const size = "bytes" in m ? m.bytes.length : m.size;
      await tar.header({ name: m.name, typeflag: TypeFlag.File, mode: 0o644, uid: 0, gid: 0, size, mtime: 0 });
      if ("bytes" in m) await tar.bytes(m.bytes);
      else if ("path" in m) await tar.file(m.path, size);
      else await tar.stream(await m.open(), size, m.name);
      await tar.pad(size);
      await tar.breathe();
    }
    await tar.end();
    const digest = hash.digest();
    await t.commit(digest, hash.size);
    return { digest, size: hash.size };
  } catch (e) {
    await t.abort();
    throw e;
  }
}
