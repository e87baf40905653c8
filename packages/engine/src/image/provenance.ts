import { digestHex, formatLocation, resolveLocation, type Digest, type LayerGraph, type Op } from "@strata/graph";
import type { OciImage } from "@strata/oci";
import { readJsonOrUndefined, writeJsonAtomic } from "../store/atomic.ts";
import type { Store } from "../store/store.ts";

/** One step of a built image, as the store remembers it. */
export interface ProvenanceStep {
  /** The history text (`RUN …`, `COPY …`). */
  readonly createdBy: string;
  /** `file:line:col` of the `.image.ts` call or Dockerfile instruction, when known. */
  readonly location?: string;
  /** The layer the step added; absent for config-only steps and steps that changed nothing. */
  readonly diffId?: Digest;
}

/** `provenance/<manifest>.json`: where the image's layers came from. */
export interface Provenance {
  readonly version: 1;
  readonly manifest: Digest;
  /** When this build ran (the image's own `created` is SOURCE_DATE_EPOCH, for reproducibility). */
  readonly built: string;
  /** What was built: the module or Dockerfile and target, as the build was asked. */
  readonly target?: string;
  /** The base image's layers (bottom first) come before these; they carry only their history. */
  readonly steps: readonly ProvenanceStep[];
}

/**
 * Records, beside the image, which step (and source line) made each of its layers, so
 * `strata inspect` and `strata history` can say it later. Kept outside the image (the config's
 * history has only the text) so the digest does not depend on where the source file lives.
 */
export function recordProvenance(store: Store, graph: LayerGraph, image: OciImage, emptyOps: ReadonlySet<Op>, target?: string): void {
  const steps = graph.image.steps;
  const layered = steps.filter((s) => s.op && !emptyOps.has(s.op)).length;
  let layer = image.layers.length - layered;
  const out: ProvenanceStep[] = steps.map((s) => {
    const loc = resolveLocation(s.meta);
    const diffId = s.op && !emptyOps.has(s.op) ? image.layers[layer++]?.diffId : undefined;
    return { createdBy: s.createdBy, ...(loc ? { location: formatLocation(loc) } : {}), ...(diffId ? { diffId } : {}) };
  });
  const rec: Provenance = { version: 1, manifest: image.manifestDigest, built: new Date().toISOString(), ...(target ? { target } : {}), steps: out };
  writeJsonAtomic(provenancePath(store, image.manifestDigest), rec);
}

export function readProvenance(store: Store, manifest: Digest): Provenance | undefined {
  const rec = readJsonOrUndefined<Provenance>(provenancePath(store, manifest));
  return rec?.version === 1 ? rec : undefined;
}

export function provenancePath(store: Store, manifest: Digest): string {
  return store.path("provenance", `${digestHex(manifest)}.json`);
}
