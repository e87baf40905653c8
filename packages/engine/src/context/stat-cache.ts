import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The stat fields a cached digest is valid for: any change means the file is read again. */
export interface StatKey {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
  readonly ctimeMs: number;
}

interface Record extends StatKey {
  readonly digest: string;
}

const MAGIC = "STRATA-STATCACHE 1";

/**
 * A persistent map from a context path to the sha256 of its bytes, valid while
 * (size, mtime, inode, ctime) are unchanged. One file per context root:
 * `<dir>/<sha256(absolute root)[0:32]>`. Format: a magic line, the sha256 of the body, then
 * NUL-separated fields (path, size, mtime, ino, ctime, hex digest) — compact, fast to split,
 * and a path can never contain NUL. A file that is missing, truncated or fails its checksum
 * is treated as empty. Saves are atomic (temp file + rename); concurrent writers lose
 * updates, never consistency.
 */
export class StatCache {
  private readonly records = new Map<string, Record>();
  private dirty = false;
  /** Paths looked up or stored this session (kept when saving; others are pruned if asked). */
  private readonly touched = new Set<string>();
  private loaded = false;

  private constructor(readonly file: string | undefined) {}

  /** An in-memory cache that is never saved. */
  static memory(): StatCache {
    return new StatCache(undefined);
  }

  /** Loads the cache of `root` from `dir` (created on save). */
  static open(dir: string, root: string): StatCache {
    const name = createHash("sha256").update(root).digest("hex").slice(0, 32);
    // Loaded on first use: a no-op build answered by the selection memo never reads it.
    return new StatCache(join(dir, name));
  }

  /** Whether anything looked into the cache this session. */
  get used(): boolean {
    return this.loaded;
  }

  get size(): number {
    this.load();
    return this.records.size;
  }

  get(path: string, key: StatKey): string | undefined {
    this.load();
    this.touched.add(path);
    const r = this.records.get(path);
    if (!r) return undefined;
    if (r.size !== key.size || r.mtimeMs !== key.mtimeMs || r.ino !== key.ino || r.ctimeMs !== key.ctimeMs) return undefined;
    return r.digest;
  }

  set(path: string, key: StatKey, digest: string): void {
    this.load();
    this.touched.add(path);
    const old = this.records.get(path);
    if (old && old.digest === digest && old.size === key.size && old.mtimeMs === key.mtimeMs && old.ino === key.ino && old.ctimeMs === key.ctimeMs) return;
    this.records.set(path, { size: key.size, mtimeMs: key.mtimeMs, ino: key.ino, ctimeMs: key.ctimeMs, digest });
    this.dirty = true;
  }

  delete(path: string): void {
    this.load();
    if (this.records.delete(path)) this.dirty = true;
  }

  /**
   * Writes the cache if it changed. `prune` drops records of paths not looked up this
   * session (use it after a walk of the whole context, so deleted files do not linger).
   */
  save(opts: { prune?: boolean } = {}): void {
    if (!this.loaded) return; // nothing was looked up or stored: nothing to write
    if (opts.prune) {
      for (const path of this.records.keys()) {
        if (!this.touched.has(path)) {
          this.records.delete(path);
          this.dirty = true;
        }
      }
    }
    if (!this.dirty || this.file === undefined) return;
    const parts: string[] = [];
    for (const [path, r] of this.records) parts.push(path, String(r.size), String(r.mtimeMs), String(r.ino), String(r.ctimeMs), r.digest);
    const body = parts.join("\0");
    const sum = createHash("sha256").update(body).digest("hex");
    const dir = this.file.slice(0, this.file.lastIndexOf("/"));
    mkdirSync(dir, { recursive: true });
    const tmp = `${this.file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    writeFileSync(tmp, `${MAGIC}\n${sum}\n${body}`);
    renameSync(tmp, this.file);
    this.dirty = false;
  }

  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    if (this.file === undefined) return;
    let text: string;
    try {
      text = readFileSync(this.file, "utf8");
    } catch {
      return;
    }
    const first = text.indexOf("\n");
    const second = first < 0 ? -1 : text.indexOf("\n", first + 1);
    if (second < 0 || text.slice(0, first) !== MAGIC) return;
    const sum = text.slice(first + 1, second);
    const body = text.slice(second + 1);
    if (createHash("sha256").update(body).digest("hex") !== sum) return;
    if (body === "") return;
    const f = body.split("\0");
    if (f.length % 6 !== 0) return;
    for (let i = 0; i < f.length; i += 6) {
      const size = +(f[i + 1] as string);
      const mtimeMs = +(f[i + 2] as string);
      const ino = +(f[i + 3] as string);
      const ctimeMs = +(f[i + 4] as string);
      const digest = f[i + 5] as string;
      // The checksum already vouches for the bytes; this only guards against a foreign writer.
      if (digest.length !== 64 || Number.isNaN(size + mtimeMs + ino + ctimeMs)) {
        this.records.clear();
        return;
      }
      this.records.set(f[i] as string, { size, mtimeMs, ino, ctimeMs, digest });
    }
  }
}
