import type { Digest } from "@strata/graph";
import { imageFromStore, type OciImage } from "@strata/oci";
import { listRefs } from "../store/refs.ts";
import type { Store } from "../store/store.ts";

/** One image of the store with every name that points at it (`strata images`). */
export interface ImageSummary {
  /** Local names (`strata build -t`, `pull`, `tag`), sorted. */
  readonly names: readonly string[];
  readonly manifest: Digest;
  /** The image ID as docker shows it: the config's digest. */
  readonly id: Digest;
  /** The config's `created` (SOURCE_DATE_EPOCH for reproducible builds). */
  readonly created?: string;
  readonly platform: string;
  readonly layers: number;
  /** Uncompressed bytes of all its layers (docker's SIZE). */
  readonly size: number;
  /** Of those, bytes in layers another image of the store uses too (docker's SHARED SIZE). */
  readonly sharedSize: number;
}

/**
 * Every named image in the store, grouped by manifest. Sizes are uncompressed layer bytes, as
 * docker reports them; a layer counted as shared is one that another listed image also has.
 * A name whose manifest is gone from the store is skipped (it cannot be run or pushed).
 */
export async function listImages(store: Store): Promise<ImageSummary[]> {
  const byManifest = new Map<Digest, string[]>();
  for (const r of listRefs(store)) byManifest.set(r.manifest, [...(byManifest.get(r.manifest) ?? []), r.name]);
  const images: { names: string[]; image: OciImage }[] = [];
  for (const [manifest, names] of byManifest) {
    try {
      images.push({ names: names.sort(), image: await imageFromStore(store.blobs, manifest) });
    } catch {
      /* dangling name */
    }
  }
  const users = new Map<Digest, number>();
  for (const { image } of images) for (const d of new Set(image.layers.map((l) => l.diffId))) users.set(d, (users.get(d) ?? 0) + 1);
  const out: ImageSummary[] = [];
  for (const { names, image } of images) {
    let size = 0;
    let shared = 0;
    for (const l of image.layers) {
      const bytes = (await store.blobs.size(l.diffId)) ?? l.descriptor.size;
      size += bytes;
      if ((users.get(l.diffId) ?? 0) > 1) shared += bytes;
    }
    const c = image.config;
    out.push({
      names,
      manifest: image.manifestDigest,
      id: image.manifest.config.digest,
      ...(c.created ? { created: c.created } : {}),
      platform: [c.os, c.architecture, c.variant].filter(Boolean).join("/"),
      layers: image.layers.length,
      size,
      sharedSize: shared,
    });
  }
  return out.sort((a, b) => (a.names[0]! < b.names[0]! ? -1 : 1));
}
