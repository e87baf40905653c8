import type { Store } from "../store/store.ts";
import type { CacheCollector } from "./collector.ts";
import { unpackMount } from "./mount-archive.ts";
import type { RemoteCache } from "./remote-cache.ts";

/**
 * Cache mounts and the shared cache: a mount id this store has never held is filled from the
 * first `--cache-from` source that exported it (verified by digest; an unusable archive is a
 * warning and the mount starts empty); every id a step uses is recorded for `--cache-to`.
 */
export function mountShare(store: Store, share: { readonly remote?: RemoteCache; readonly collect?: CacheCollector }) {
  const seeding = new Map<string, Promise<void>>();
  return {
    seed(id: string, dir: string): Promise<void> {
      const remote = share.remote;
      if (!remote) return Promise.resolve();
      let p = seeding.get(dir);
      if (!p) {
        p = (async () => {
          const found = await remote.mount(id);
          if (!found) return;
          if (!(await remote.fetchBlob(found.source, found.entry, `the archive of cache mount ${JSON.stringify(id)}`))) return;
          try {
            await unpackMount(store, found.entry.digest, found.entry.diffId, dir);
          } catch (e) {
            remote.bad.add(`mount:${id}`);
            remote.warn(`${found.source.name}: the archive of cache mount ${JSON.stringify(id)} is unusable (${e instanceof Error ? e.message : String(e)}); the mount starts empty`);
          }
        })();
        seeding.set(dir, p);
      }
      return p;
    },
    used(id: string, dir: string): void {
      share.collect?.mountUsed(id, dir);
    },
  };
}
