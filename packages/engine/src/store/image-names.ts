import { rmSync } from "node:fs";
import { digestHex, isDigest, StrataError, type Digest } from "@strata/graph";
import { imageFromStore, type OciImage } from "@strata/oci";
import { listContainers } from "../container/container-dirs.ts";
import { provenancePath } from "../image/provenance.ts";
import { writeJsonAtomic } from "./atomic.ts";
import { liveBuilds } from "./locks.ts";
import { findImage, listRefs } from "./refs.ts";
import type { Store } from "./store.ts";

/** `strata tag SRC DST`: one more name for an image in the store (written atomically; an existing DST is moved). */
export async function tagImage(store: Store, source: string, target: string): Promise<OciImage> {
  const image = await resolveImage(store, source);
  writeJsonAtomic(store.refPath(target), { manifest: image.manifestDigest, source: `tag ${source}` });
  return image;
}

/**
 * An image by name, manifest digest, image ID (the config digest, as `strata images` shows it)
 * or a unique prefix of at least 12 hex digits of either.
 */
export async function resolveImage(store: Store, ref: string): Promise<OciImage> {
  const digest = await resolveDigest(store, ref);
  return digest ? imageFromStore(store.blobs, digest) : findImage(store, ref);
}

async function resolveDigest(store: Store, ref: string): Promise<Digest | undefined> {
  const hex = /^(?:sha256:)?([0-9a-f]{12,64})$/.exec(ref)?.[1];
  if (!hex || listRefs(store).some((r) => r.name === ref)) return undefined;
  const matches = new Set<Digest>();
  for (const r of listRefs(store)) {
    if (digestHex(r.manifest).startsWith(hex)) matches.add(r.manifest);
    else {
      const img = await imageFromStore(store.blobs, r.manifest).catch(() => undefined);
      if (img && digestHex(img.manifest.config.digest).startsWith(hex)) matches.add(r.manifest);
    }
  }
  if (matches.size > 1) throw new StrataError("STRATA_IMAGE_AMBIGUOUS", `${ref} matches ${matches.size} images`, { hint: "give more digits of the ID" });
  if (matches.size === 1) return [...matches][0];
  const full = `sha256:${hex}`;
  return isDigest(full) && (await store.blobs.has(full as Digest)) ? (full as Digest) : undefined;
}

/** What `strata rmi` did, in docker's words. */
export interface RemoveImagesResult {
  readonly untagged: readonly string[];
  readonly deleted: readonly Digest[];
  /** Content left in place because a build or container was using the store: `strata cache prune` frees it later. */
  readonly deferred: boolean;
}

/**
 * `strata rmi`: removes names, and an image's content once no name points at it: its manifest,
 * config and the layers (blobs, snapshots, tables of contents) no other named image or kept
 * container uses. As docker: a name removes that name only; an ID or digest that several names
 * point at, or an image a kept container (`strata run --name`) uses, needs `force`. Follows the
 * store's lock protocol: while a build or `strata run` holds the store, only names are removed
 * and the content is left for `strata cache prune`.
 */
export async function removeImages(store: Store, refs: readonly string[], opts: { force?: boolean } = {}): Promise<RemoveImagesResult> {
  const untagged: string[] = [];
  const doomed = new Map<Digest, OciImage>();
  for (const ref of refs) {
    const byName = listRefs(store).find((r) => r.name === ref);
    const image = await resolveImage(store, ref);
    const names = listRefs(store).filter((r) => r.manifest === image.manifestDigest).map((r) => r.name);
    const remove = byName ? [ref] : names;
    if (!byName && names.length > 1 && !opts.force) {
      throw new StrataError("STRATA_IMAGE_IN_USE", `${ref} is named ${names.join(", ")}`, { hint: "remove the names one by one, or use --force to remove them all" });
    }
    const users = listContainers(store).filter((c) => c.manifest === image.manifestDigest);
    if (users.length && !opts.force && names.length <= remove.length) {
      throw new StrataError("STRATA_IMAGE_IN_USE", `${ref} is used by the container ${users.map((u) => u.name).join(", ")}`, {
        hint: `remove it first (strata rm ${users[0]!.name}), or use --force`,
      });
    }
    for (const n of remove) {
      rmSync(store.refPath(n), { force: true });
      untagged.push(n);
    }
    if (names.length <= remove.length) doomed.set(image.manifestDigest, image);
  }
  if (doomed.size === 0) return { untagged, deleted: [], deferred: false };
  if (liveBuilds(store).length) return { untagged, deleted: [], deferred: true };
  const keep = new Set<string>();
  const keepImage = (img: OciImage) => {
    keep.add(img.manifestDigest);
    keep.add(img.manifest.config.digest);
    for (const l of img.layers) keep.add(l.diffId).add(l.descriptor.digest);
  };
  for (const r of listRefs(store)) await imageFromStore(store.blobs, r.manifest).then(keepImage, () => {});
  for (const c of listContainers(store)) await imageFromStore(store.blobs, c.manifest).then(keepImage, () => {});
  const deleted: Digest[] = [];
  for (const image of doomed.values()) {
    if (keep.has(image.manifestDigest)) continue;
    const blobs = [image.manifestDigest, image.manifest.config.digest, ...image.layers.flatMap((l) => [l.descriptor.digest, l.diffId])];
    for (const d of blobs) if (!keep.has(d)) rmSync(store.blobs.pathOf(d), { force: true });
    for (const l of image.layers) {
      if (keep.has(l.diffId)) continue;
      rmSync(store.snapshotPath(l.diffId), { recursive: true, force: true });
      rmSync(store.tocPath(l.diffId), { force: true });
    }
    rmSync(provenancePath(store, image.manifestDigest), { force: true });
    deleted.push(image.manifest.config.digest);
  }
  return { untagged, deleted, deferred: false };
}
