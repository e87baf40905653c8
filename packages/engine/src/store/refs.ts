import { readdirSync } from "node:fs";
import { isDigest, StrataError, type Digest } from "@strata/graph";
import { imageFromStore, type OciImage } from "@strata/oci";
import { readJsonOrUndefined } from "./atomic.ts";
import type { Store } from "./store.ts";

/** Local image names (`strata build -t`) → manifest digests, as recorded in the store. */
export function listRefs(store: Store): Array<{ name: string; manifest: Digest }> {
  let files: string[];
  try {
    files = readdirSync(store.path("refs"));
  } catch {
    return [];
  }
  return files
    .filter((f) => f.endsWith(".json"))
    .flatMap((f) => {
      const rec = readJsonOrUndefined<{ manifest: Digest }>(store.path("refs", f));
      return rec && isDigest(rec.manifest) ? [{ name: decodeURIComponent(f.slice(0, -5)), manifest: rec.manifest }] : [];
    })
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** An image in the store by local name (`app:dev`, normalised like docker) or manifest digest. */
export async function findImage(store: Store, nameOrDigest: string): Promise<OciImage> {
  const digest = isDigest(nameOrDigest) ? nameOrDigest : readJsonOrUndefined<{ manifest: Digest }>(store.refPath(nameOrDigest))?.manifest;
  if (!digest || !(await store.blobs.has(digest))) {
    const names = listRefs(store).map((r) => r.name);
    throw new StrataError("STRATA_IMAGE_NOT_FOUND", `no image ${JSON.stringify(nameOrDigest)} in the store`, {
      hint: names.length ? `images: ${names.slice(0, 8).join(", ")}${names.length > 8 ? ", …" : ""}` : "build one with `strata build -t NAME`",
    });
  }
  return imageFromStore(store.blobs, digest);
}
