import type { Digest, HistoryEntry, ImageConfigFile } from "@strata/graph";
import type { Manifest, OciImage } from "@strata/oci";
import { readProvenance } from "../image/provenance.ts";
import { listRefs } from "../store/refs.ts";
import type { Store } from "../store/store.ts";

/** One layer with the step that made it. */
export interface LayerDetails {
  readonly index: number;
  readonly diffId: Digest;
  /** The blob as the manifest lists it (compressed for pulled images). */
  readonly digest: Digest;
  readonly mediaType: string;
  readonly compressedSize: number;
  /** Uncompressed bytes, when the layer is in the store. */
  readonly size?: number;
  readonly createdBy: string;
  /** The `.image.ts` call or Dockerfile line (file:line:col), for layers this store built. */
  readonly location?: string;
  readonly comment?: string;
}

/** What `strata inspect` shows. */
export interface ImageDetails {
  readonly names: readonly string[];
  readonly id: Digest;
  readonly manifestDigest: Digest;
  readonly manifest: Manifest;
  readonly config: ImageConfigFile;
  readonly layers: readonly LayerDetails[];
  /** Every history entry, empty ones included, with the source location where known. */
  readonly history: readonly (HistoryEntry & { readonly location?: string })[];
  /** When this store built it, and from what. */
  readonly built?: { readonly at: string; readonly target?: string };
}

/**
 * An image's manifest, config and layers, each layer matched to the history entry that made it
 * (the non-empty entries, in order) and, for images built here, to the step's source location.
 */
export async function inspectImage(store: Store, image: OciImage): Promise<ImageDetails> {
  const prov = readProvenance(store, image.manifestDigest);
  const locByLayer = new Map<string, string>();
  const provSteps = prov?.steps ?? [];
  for (const s of provSteps) if (s.diffId && s.location) locByLayer.set(s.diffId, s.location);
  const historyIn = image.config.history ?? [];
  // The steps this store built are the last history entries; their locations line up from the end.
  const offset = historyIn.length - provSteps.length;
  const history = historyIn.map((h, i) => {
    const loc = i >= offset && prov ? provSteps[i - offset]?.location : undefined;
    return loc ? { ...h, location: loc } : h;
  });
  const layerHistory = history.filter((h) => !h.empty_layer);
  const layers: LayerDetails[] = [];
  for (const [i, l] of image.layers.entries()) {
    const h = layerHistory[i];
    const size = await store.blobs.size(l.diffId);
    const location = locByLayer.get(l.diffId) ?? (h as { location?: string } | undefined)?.location;
    layers.push({
      index: i,
      diffId: l.diffId,
      digest: l.descriptor.digest,
      mediaType: l.descriptor.mediaType,
      compressedSize: l.descriptor.size,
      ...(size !== undefined ? { size } : {}),
      createdBy: h?.created_by ?? "",
      ...(location ? { location } : {}),
      ...(h?.comment ? { comment: h.comment } : {}),
    });
  }
  return {
    names: listRefs(store).filter((r) => r.manifest === image.manifestDigest).map((r) => r.name),
    id: image.manifest.config.digest,
    manifestDigest: image.manifestDigest,
    manifest: image.manifest,
    config: image.config,
    layers,
    history,
    ...(prov ? { built: { at: prov.built, ...(prov.target ? { target: prov.target } : {}) } } : {}),
  };
}
