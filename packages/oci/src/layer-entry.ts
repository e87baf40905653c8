/**
 * One entry of a filesystem change set, the common currency between what produces layer
 * content (COPY from a context, a RUN's overlay upper directory, an extracted base) and the
 * deterministic tar writer. Paths are relative to the root, `/`-separated, without a leading
 * `./` or `/`, and never contain `..`.
 */
export type LayerEntry =
  | (EntryBase & { readonly type: "file"; readonly size: number; readonly content: EntryContent })
  | (EntryBase & { readonly type: "directory" })
  | (EntryBase & { readonly type: "symlink"; readonly linkname: string })
  /** `linkname` is the root-relative path of an earlier entry in the same layer. */
  | (EntryBase & { readonly type: "hardlink"; readonly linkname: string })
  | (EntryBase & { readonly type: "char-device" | "block-device"; readonly devmajor: number; readonly devminor: number })
  | (EntryBase & { readonly type: "fifo" })
  /** Deletion of `path` from lower layers: written as `<dir>/.wh.<name>`. */
  | { readonly type: "whiteout"; readonly path: string }
  /** `path` (a directory in this layer) hides everything below it in lower layers: `<path>/.wh..wh..opq`. */
  | { readonly type: "opaque"; readonly path: string };

interface EntryBase {
  readonly path: string;
  /** Permission bits and setuid/setgid/sticky (`0o7777` mask); the type comes from `type`. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Seconds since the epoch; the writer clamps it to SOURCE_DATE_EPOCH. */
  readonly mtime: number;
  readonly uname?: string;
  readonly gname?: string;
  /** Extended attributes (e.g. `security.capability`), values as raw bytes. */
  readonly xattrs?: Readonly<Record<string, Uint8Array>>;
}

/**
 * Where a file's bytes come from: a path on disk (streamed at write time), a byte range of a
 * file (a member of an uncompressed layer tar: COPY --from reads stage files without
 * extracting them), or bytes in memory.
 */
export type EntryContent = { readonly path: string; readonly offset?: number } | { readonly bytes: Uint8Array };
