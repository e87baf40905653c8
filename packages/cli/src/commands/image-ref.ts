import { StrataError } from "@strata/graph";

/**
 * A local image name as docker normalises it (`app` → `app:latest`, `docker.io/library/x` →
 * `x:latest`); digests and image IDs pass through. Names that are not references pass through
 * too, and simply match nothing in the store.
 */
export async function normalizeImageName(name: string): Promise<string> {
  if (/^(sha256:)?[0-9a-f]{12,64}$/.test(name)) return name;
  const { parseReference, familiarString } = await import("@strata/registry");
  try {
    const ref = parseReference(name);
    return familiarString(ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: "latest" } : ref);
  } catch {
    return name;
  }
}

/** A name to create (`strata tag`): must be a valid reference. */
export async function newImageName(name: string): Promise<string> {
  const { parseReference, familiarString } = await import("@strata/registry");
  try {
    const ref = parseReference(name);
    if (ref.digest !== undefined) throw new Error("a name cannot be a digest");
    return familiarString(ref.tag === undefined ? { ...ref, tag: "latest" } : ref);
  } catch (e) {
    throw new StrataError("STRATA_USAGE", `${JSON.stringify(name)} is not a valid image name: ${(e as Error).message}`, { hint: "NAME[:TAG], e.g. app:1.2" });
  }
}

/** An image ID as docker shows it: the first 12 hex digits of the config digest. */
export function shortId(digest: string): string {
  return digest.replace(/^sha256:/, "").slice(0, 12);
}
