/** What the context walk keeps: Docker sends regular files, directories and symlinks only. */
export type ContextEntryType = "file" | "directory" | "symlink";

/** One path of a build context, as `lstat` saw it (nothing is read). */
export interface ContextEntry {
  /** Relative to the context root, `/`-separated, no leading `./`. */
  readonly path: string;
  readonly type: ContextEntryType;
  /** Permission bits with setuid/setgid/sticky (`& 0o7777`). */
  readonly mode: number;
  /** Owner on disk. Docker's context transfer resets both to 0; COPY uses 0 (see `copy/`). */
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** Milliseconds with sub-millisecond fraction, as `fs.Stats.mtimeMs`. */
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  readonly dev: number;
  readonly nlink: number;
  /** Symlink target, verbatim. */
  readonly linkname?: string;
}

/** A path the walk left out because Docker cannot send it. */
export interface SkippedEntry {
  readonly path: string;
  readonly kind: "socket" | "fifo" | "char-device" | "block-device";
}
