import type { Readable } from "node:stream";
import { formatPlatform, StrataError, type Digest, type ImageConfigFile, type Platform } from "@strata/graph";
import { imageFromStore, type BlobStore } from "@strata/oci";
import { familiarString, formatReference, parseManifest, parseReference, referenceName, selectManifest, withDigest, type RawManifest, type Reference } from "@strata/registry";
import type { Store } from "../store/store.ts";
import { recordBaseLayers } from "./base-layer-blobs.ts";
import type { ImageOverride } from "./image-overrides.ts";
import { findOverride } from "./image-overrides.ts";
import type { ImageResolver, ImageSpec, LoadedImage, ResolvedImage } from "./image-sources.ts";
import { lockPlatform, lookupLock, type Lockfile } from "./lockfile.ts";
import type { MirroredRegistry } from "./registry-mirrors.ts";

export interface BaseImageOptions {
  /** Where pulled blobs go (the build store's blobs), and where pinned images are looked up first. */
  readonly blobs: BlobStore;
  readonly registry: MirroredRegistry;
  /** Local transports (OCI layouts and archives, docker archives, the Docker daemon). */
  readonly local: ImageResolver;
  /** `--image REF=SOURCE`, keyed by normalised reference (see parseImageOverrides). */
  readonly overrides?: ReadonlyMap<string, ImageOverride>;
  readonly lock?: Lockfile;
  /** For messages: where the lock is (or would be). */
  readonly lockPath?: string;
  /** `--locked`: a registry reference without a lock entry is an error instead of a lookup. */
  readonly locked?: boolean;
  readonly onInfo?: (message: string) => void;
  /** The build store's cache: pulled layers are recorded there, so a push can reuse their compressed blobs. */
  readonly cache?: Pick<Store, "getCache" | "putCache">;
}

/** What a registry reference stands for on one platform. */
export interface ResolvedReference {
  readonly ref: Reference;
  /** The platform image's manifest digest. */
  readonly digest: Digest;
  /** The index the reference named, when known. */
  readonly index?: Digest;
  /** How it was resolved: from the lockfile, from the local store (a digest already pulled), or by asking a registry. */
  readonly via: "lock" | "store" | "registry";
}

function badRef(e: unknown): StrataError {
  return new StrataError("STRATA_BAD_IMAGE_REF", (e as Error).message, { hint: 'write it as name[:tag][@digest], e.g. "node:22-slim"' });
}

async function readBlob(blobs: BlobStore, digest: Digest): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of (await blobs.open(digest)) as AsyncIterable<Buffer>) chunks.push(c);
  return new Uint8Array(Buffer.concat(chunks));
}

/**
 * Where a build's base images come from, in this order:
 *   1. `--image REF=SOURCE` overrides (a local source, or another registry reference);
 *   2. the lockfile, which pins a reference to a platform manifest digest with no request;
 *   3. a reference pinned by digest that the store already holds (no request either);
 *   4. the registry, through its mirrors first.
 * Loading serves an image that is complete in the store from there and pulls only what is
 * missing, verified, so a warm, locked build touches no network at all.
 */
export class BaseImageResolver implements ImageResolver {
  readonly #resolving = new Map<string, Promise<ResolvedReference>>();
  readonly #loading = new Map<string, Promise<void>>();

  constructor(readonly opts: BaseImageOptions) {}

  async resolve(spec: ImageSpec): Promise<ResolvedImage> {
    if (spec.transport !== "registry") return this.opts.local.resolve(spec);
    const override = findOverride(this.opts.overrides, spec.ref);
    if (override && override.transport !== "registry") {
      this.opts.onInfo?.(`${spec.ref} comes from ${override.text} (--image)`);
      return this.opts.local.resolve({ transport: override.transport, ref: override.ref, platform: spec.platform });
    }
    let ref: Reference;
    try {
      ref = parseReference(override?.ref ?? spec.ref);
    } catch (e) {
      throw badRef(e);
    }
    const resolved = await this.resolveReference(ref, spec.platform);
    return { key: resolved.digest, load: () => this.load(resolved, spec.platform) };
  }

  /** The platform manifest digest a reference names: lock, then store, then registry. Memoized per build. */
  resolveReference(ref: Reference, platform: Platform): Promise<ResolvedReference> {
    const k = `${formatReference(ref)} ${formatPlatform(platform)}`;
    let p = this.#resolving.get(k);
    if (!p) {
      p = this.#resolve(ref, platform);
      this.#resolving.set(k, p);
    }
    return p;
  }

  async #resolve(ref: Reference, platform: Platform): Promise<ResolvedReference> {
    const name = formatReference(ref);
    const entry = lookupLock(this.opts.lock, name, platform);
    if (entry) return { ref: withDigest(ref, entry.digest), digest: entry.digest, ...(entry.index ? { index: entry.index } : {}), via: "lock" };
    // A reference with a digest pins itself: only tags need the lock.
    if (this.opts.locked && !ref.digest) {
      throw new StrataError(
        "STRATA_LOCKFILE_STALE",
        `${familiarString(ref)} (${lockPlatform(platform)}) is not in ${this.opts.lockPath ?? "the lockfile"}`,
        {
          hint: this.opts.lock?.platforms?.includes(lockPlatform(platform)) === false
            ? `the lock was made for ${this.opts.lock.platforms.join(", ")}: run \`strata lock --platform ${lockPlatform(platform)}\` to add this platform`
            : "run `strata lock` to update the lockfile, or build without --locked",
        },
      );
    }
    if (ref.digest) {
      const local = await this.#fromStore(ref.digest, platform);
      if (local) return { ref: withDigest(ref, local.digest), ...local, via: "store" };
    }
    if (this.opts.lock && !ref.digest) this.opts.onInfo?.(`${familiarString(ref)} (${lockPlatform(platform)}) is not in ${this.opts.lockPath ?? "the lockfile"}: asking the registry`);
    const r = await this.opts.registry.resolve(ref, { platform });
    return { ref: withDigest(ref, r.digest), digest: r.digest, ...(r.indexDigest ? { index: r.indexDigest } : {}), via: "registry" };
  }

  /** A digest the store holds: the manifest itself, or an index from which the platform is picked. */
  async #fromStore(digest: Digest, platform: Platform): Promise<{ digest: Digest; index?: Digest } | undefined> {
    if (!(await this.opts.blobs.has(digest))) return undefined;
    let m: RawManifest;
    try {
      m = parseManifest(await readBlob(this.opts.blobs, digest), undefined, digest);
    } catch {
      return undefined; // not a manifest (a layer with that digest?): let the registry say
    }
    if (m.kind === "manifest") return { digest };
    const child = selectManifest(m.parsed.manifests, platform);
    return child ? { digest: child.digest, index: digest } : undefined;
  }

  /** Whether the manifest, its config and every layer are in the store at their sizes. */
  async complete(digest: Digest): Promise<boolean> {
    const blobs = this.opts.blobs;
    if (!(await blobs.has(digest))) return false;
    let m: RawManifest;
    try {
      m = parseManifest(await readBlob(blobs, digest), undefined, digest);
    } catch {
      return false;
    }
    if (m.kind !== "manifest") return false;
    for (const d of [m.parsed.config, ...m.parsed.layers]) if ((await blobs.size(d.digest)) !== d.size) return false;
    return true;
  }

  /** Makes the image complete in the store: nothing to do when it is, else a verified pull (by digest). */
  fetch(resolved: ResolvedReference, platform: Platform): Promise<void> {
    let p = this.#loading.get(resolved.digest);
    if (!p) {
      p = (async () => {
        if (await this.complete(resolved.digest)) return;
        const name = familiarString(resolved.ref);
        this.opts.onInfo?.(`pulling ${name}`);
        const started = performance.now();
        const pulled = await this.opts.registry.pull(withDigest(resolved.ref, resolved.digest), this.opts.blobs, { platform });
        const bytes = pulled.layers.reduce((n, l) => n + l.size, 0);
        const from = pulled.endpoint.domain !== resolved.ref.domain ? ` from ${pulled.endpoint.domain}` : "";
        this.opts.onInfo?.(`pulled ${name}${from}: ${pulled.layers.length} layers, ${(bytes / 1048576).toFixed(1)} MiB in ${((performance.now() - started) / 1000).toFixed(2)}s`);
      })();
      this.#loading.set(resolved.digest, p);
      p.catch(() => this.#loading.delete(resolved.digest));
    }
    return p;
  }

  async load(resolved: ResolvedReference, platform: Platform): Promise<LoadedImage> {
    await this.fetch(resolved, platform);
    const img = await imageFromStore(this.opts.blobs, resolved.digest);
    if (this.opts.cache) recordBaseLayers(this.opts.cache, img, referenceName(resolved.ref));
    return {
      manifestDigest: img.manifestDigest,
      configBytes: img.configBytes,
      config: img.config as ImageConfigFile,
      layers: img.layers.map((l) => ({ diffId: l.diffId, open: (): Promise<Readable> => l.open() })),
    };
  }
}
