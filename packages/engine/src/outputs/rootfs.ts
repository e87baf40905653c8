import { PassThrough } from "node:stream";
import { StrataError } from "@strata/graph";
import { extractLayer, writeLayer, type LayerEntry, type OciImage } from "@strata/oci";
import { ChainView } from "../layers/chain-view.ts";
import { LayerStore } from "../layers/layer-store.ts";
import type { Store } from "../store/store.ts";
import { writeLocalDir } from "./local-dir.ts";

/**
 * The image's final filesystem as entries (every layer applied, whiteouts and opaque
 * directories resolved), read from the store's uncompressed layers without extracting them.
 */
export async function rootfsEntries(store: Store, image: OciImage): Promise<LayerEntry[]> {
  const layers = new LayerStore(store, 0);
  const chain = [];
  for (const l of image.layers) {
    const size = await store.blobs.size(l.diffId);
    if (size === undefined) throw new StrataError("STRATA_BLOB_NOT_FOUND", `layer ${l.diffId} of image ${image.manifestDigest} is not in the store`, { hint: "build the image again" });
    chain.push({ diffId: l.diffId, size });
  }
  return (await ChainView.open(layers, chain)).flatten();
}

/**
 * `--output type=tar`: the final filesystem as one tar (mtimes, modes, owners, links as the
 * image has them), to a file (temp file + rename) or a stream (`dest=-`, stdout).
 */
export async function writeRootfsTar(store: Store, image: OciImage, to: { file: string } | { stream: NodeJS.WritableStream }): Promise<void> {
  await writeLayer(await rootfsEntries(store, image), { to, sourceDateEpoch: Infinity });
}

/**
 * `--output type=local`: the final filesystem as files under `dest` (owners applied when
 * running as root, as BuildKit's local exporter does). The tree is extracted into a private
 * directory first (by the same safe extractor as layers: nothing lands outside it), then
 * moved into place, so a failure leaves `dest` as it was.
 */
export async function writeRootfsDir(store: Store, image: OciImage, dest: string): Promise<void> {
  const entries = await rootfsEntries(store, image);
  await writeLocalDir(dest, async (dir) => {
    const pipe = new PassThrough();
    const written = writeLayer(entries, { to: { stream: pipe }, sourceDateEpoch: Infinity }).then(
      () => pipe.end(),
      (e: unknown) => pipe.destroy(e as Error),
    );
    await Promise.all([extractLayer(pipe, dir, { mode: "apply" }), written]);
  });
}
