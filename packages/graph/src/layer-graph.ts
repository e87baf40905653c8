import { canonicalJson, type CanonicalValue } from "./canonical.ts";
import { sha256Digest, type Digest } from "./digest.ts";
import { opDigest, walkOps, type Op } from "./ops/op.ts";
import type { Step } from "./step.ts";

/** Everything that defines one image: its root filesystem op, its steps (history and config), its platform. */
export interface ImageDefinition {
  readonly rootfs: Op;
  readonly steps: readonly Step[];
  /** Template, e.g. `linux/arm64`; absent: the platform the build targets. */
  readonly platform?: string;
  /**
   * Provenance, not identity (never part of the digest): the image this one started from with
   * `from(image)` and how many of `steps` it inherited. The Dockerfile exporter and the codegen
   * use it to rebuild stages (a new stage starts without the previous stage's build args).
   */
  readonly parent?: { readonly image: ImageDefinition; readonly steps: number };
  /** A name for the stage (a Dockerfile stage name or an export name), for exporters; not identity. */
  readonly name?: string;
}

/**
 * A frozen DAG for one target. `digest` identifies the whole image definition (root
 * filesystem, config steps, history); `root` is the root filesystem op's digest. A config-only
 * change (LABEL, CMD) changes `digest` but no op digest.
 */
export interface LayerGraph {
  readonly formatVersion: typeof GRAPH_FORMAT_VERSION;
  readonly digest: Digest;
  readonly root: Digest;
  readonly image: ImageDefinition;
  /** Every op the image depends on, inputs before users, keyed by digest. */
  readonly nodes: ReadonlyMap<Digest, Op>;
}

export const GRAPH_FORMAT_VERSION = 1;

const imageDigests = new WeakMap<ImageDefinition, Digest>();

export function imageDigest(image: ImageDefinition): Digest {
  let d = imageDigests.get(image);
  if (!d) {
    d = sha256Digest(`strata.image/v${GRAPH_FORMAT_VERSION}\n${canonicalJson(encodeImage(image))}`);
    imageDigests.set(image, d);
  }
  return d;
}

export function encodeStep(step: Step): { readonly [key: string]: CanonicalValue | undefined } {
  return {
    instruction: step.instruction,
    createdBy: step.createdBy,
    op: step.op ? opDigest(step.op) : undefined,
    edits: step.edits as CanonicalValue | undefined,
    scope: step.scope as CanonicalValue | undefined,
  };
}

function encodeImage(image: ImageDefinition): { readonly [key: string]: CanonicalValue | undefined } {
  return { rootfs: opDigest(image.rootfs), platform: image.platform, steps: image.steps.map(encodeStep) };
}

export function createGraph(image: ImageDefinition): LayerGraph {
  const nodes = new Map<Digest, Op>();
  const roots = [image.rootfs, ...image.steps.flatMap((s) => (s.op ? [s.op] : []))];
  walkOps(roots, (op) => nodes.set(opDigest(op), op));
  return Object.freeze({
    formatVersion: GRAPH_FORMAT_VERSION,
    digest: imageDigest(image),
    root: opDigest(image.rootfs),
    image,
    nodes,
  });
}
