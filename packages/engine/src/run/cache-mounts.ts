import { createHash } from "node:crypto";
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Store } from "../store/store.ts";

/**
 * Persistent cache directories for `--mount=type=cache`, shared across builds by id. They are
 * never part of a layer. `locked` waits for exclusive use; `private` uses a fresh directory
 * when another step holds the shared one; `shared` (the default) lets steps write at once.
 */
export class CacheMounts {
  private readonly held = new Map<string, Promise<void>>();
  /**
   * The current build's shared cache: `seed` fills a mount this store has never had from a
   * `--cache-from` archive; `used` tells `--cache-to` (mode=max) which mounts to export.
   */
  share: { seed(id: string, dir: string): Promise<void>; used(id: string, dir: string): void } | undefined;

  constructor(private readonly store: Store) {}

  async acquire(id: string, sharing: "shared" | "private" | "locked", init: { uid?: number | undefined; gid?: number | undefined; mode?: number | undefined }): Promise<{ dir: string; release: () => void }> {
    const hex = createHash("sha256").update(id).digest("hex").slice(0, 32);
    const dir = this.store.path("cache-mounts", hex);
    if (!existsSync(dir) && this.share) await this.share.seed(id, dir);
    this.share?.used(id, dir);
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true, mode: init.mode ?? 0o755 });
      chmodSync(dir, init.mode ?? 0o755);
      if (process.getuid?.() === 0) chownSync(dir, init.uid ?? 0, init.gid ?? 0);
    }
    if (sharing === "shared") return { dir, release: () => {} };
    const busy = this.held.get(hex);
    if (sharing === "private" && busy) {
      const priv = this.store.tmpDir(`cache-${hex.slice(0, 8)}`);
      return { dir: priv, release: () => rmSync(priv, { recursive: true, force: true }) };
    }
    // locked (or private when free): one user at a time within this build.
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const prev = busy ?? Promise.resolve();
    const chained = prev.then(() => mine);
    this.held.set(hex, chained);
    await prev;
    return {
      dir,
      release: () => {
        release();
        if (this.held.get(hex) === chained) this.held.delete(hex);
      },
    };
  }

  path(id: string): string {
    return join(this.store.path("cache-mounts"), createHash("sha256").update(id).digest("hex").slice(0, 32));
  }
}
