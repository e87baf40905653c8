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

  constructor(private readonly store: Store) {}

  async acquire(id: string, sharing: "shared" | "private" | "locked", init: { uid?: number | undefined; gid?: number | undefined; mode?: number | undefined }): Promise<{ dir: string; release: () => void }> {
    const hex = createHash("sha256").update(id).digest("hex").slice(0, 32);
    const dir = this.store.path("cache-mounts", hex);
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
