import type { Store } from "@strata/engine";
import { StrataError, type Digest } from "@strata/graph";
import type { OciImage } from "@strata/oci";
import type { CliContext } from "../context.ts";
import { formatBytes } from "../ui/progress.ts";
import { registryOptions } from "./build-resolvers.ts";

export interface PushReport {
  /** The pushed manifest's digest (differs from the local one: the layers are compressed). */
  readonly digest: Digest;
  /** The pushed manifest's media type and size (its descriptor, with `digest`). */
  readonly mediaType: string;
  readonly size: number;
  readonly refs: readonly string[];
  readonly uploaded: number;
  readonly uploadedBytes: number;
  readonly existing: number;
  readonly mounted: number;
}

/**
 * Splits `--output` values: `type=registry,name=REF[,name=REF…]` (buildx's spelling of a push,
 * as is `type=image,…,push=true`) gives references to push to; the rest are file outputs.
 */
export function registryOutputs(list: readonly string[]): { names: string[]; rest: string[] } {
  const names: string[] = [];
  const rest: string[] = [];
  for (const item of list) {
    const parts = item.split(",").map((p) => p.split("=", 2) as [string, string?]);
    const type = parts.find(([k]) => k === "type")?.[1];
    const push = type === "registry" || (type === "image" && parts.some(([k, v]) => k === "push" && v === "true"));
    if (!push) {
      rest.push(item);
      continue;
    }
    const these = parts.filter(([k, v]) => k === "name" && v).map(([, v]) => v!);
    if (!these.length) throw new StrataError("STRATA_USAGE", `--output ${item}: name= is required`, { hint: "e.g. --output type=registry,name=registry.example.com/team/app:1" });
    names.push(...these);
  }
  return { names, rest };
}

const COMPRESSED = /(\+gzip|\+zstd|\.tar\.gzip)$/;

/**
 * Pushes an image from the store to every reference in `refs` (several tags, several
 * repositories or registries): layers are gzip-compressed once and cached by diffID (a re-push
 * compresses nothing), each blob is HEAD-checked and uploaded only when missing, and the
 * manifest goes up last, so a tag never names an image whose blobs are not all there.
 * An image whose layers are already compressed (a pulled one) is pushed byte for byte.
 */
export async function pushImage(store: Store, image: OciImage, refs: readonly string[], opts: { insecure: readonly string[]; signal?: AbortSignal }, ctx: CliContext): Promise<PushReport> {
  if (!refs.length) throw new StrataError("STRATA_USAGE", "--push needs a name to push to", { hint: "add -t registry.example.com/team/app:tag" });
  const { withCompression, adoptBaseLayerBlobs } = await import("@strata/engine/light");
  const { Registry, sourceFromStore, parseReference } = await import("@strata/registry");
  // Names are checked before any work (a bad --output name=… fails fast).
  const domains = new Set(refs.map((r) => parseReference(r).domain));
  const domain = domains.size === 1 ? [...domains][0]! : undefined;
  const compressed = image.layers.every((l) => COMPRESSED.test(l.descriptor.mediaType));
  // Base layers pulled from a registry keep their blobs (verified): nothing to compress, and
  // the registry may already have them, or mount them from the base image's repository.
  const sources = compressed ? new Map<Digest, readonly string[]>() : await adoptBaseLayerBlobs(store, image);
  const pushed = compressed ? image : await withCompression(store, image, "gzip", "oci");
  const registry = new Registry(registryOptions(ctx, opts.insecure));
  const source = await sourceFromStore(store.blobs, pushed.manifestDigest);
  const mountFrom = (d: { digest: Digest }): string[] | undefined =>
    domain === undefined ? undefined : sources.get(d.digest)?.filter((r) => r.startsWith(`${domain}/`)).map((r) => r.slice(domain.length + 1));
  const result = await registry.push(source, [...refs], { mountFrom, ...(opts.signal ? { signal: opts.signal } : {}) });
  const sizes = new Map(pushed.layers.map((l) => [l.descriptor.digest, l.descriptor.size] as const));
  const report: PushReport = {
    digest: result.digest,
    mediaType: result.mediaType,
    size: result.size,
    refs: [...refs],
    uploaded: result.blobs.filter((b) => b.outcome === "uploaded").length,
    uploadedBytes: result.blobs.filter((b) => b.outcome === "uploaded").reduce((n, b) => n + (sizes.get(b.digest) ?? 0), 0),
    existing: result.blobs.filter((b) => b.outcome === "exists").length,
    mounted: result.blobs.filter((b) => b.outcome === "mounted").length,
  };
  for (const r of refs) ctx.stderr(`  pushed ${r}@${result.digest}\n`);
  ctx.stderr(`  blobs: ${report.uploaded} uploaded (${formatBytes(report.uploadedBytes)}), ${report.existing} already there${report.mounted ? `, ${report.mounted} mounted` : ""}\n`);
  return report;
}
