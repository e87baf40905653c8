import type { CanonicalValue } from "../canonical.ts";
import { isDigest, type Digest } from "../digest.ts";
import { StrataError } from "../diagnostic.ts";
import { createGraph, GRAPH_FORMAT_VERSION, imageDigest, type ImageDefinition, type LayerGraph } from "../layer-graph.ts";
import { encodeOp, opDigest, walkOps, type Op } from "../ops/op.ts";
import { resolveLocation, type OpMeta, type SourceLocation } from "../source-location.ts";
import type { Step } from "../step.ts";
import { describeOp } from "./describe.ts";

export interface GraphJson {
  readonly formatVersion: number;
  readonly digest: string;
  readonly root: string;
  readonly platform?: string;
  readonly name?: string;
  readonly parent?: ParentJson;
  readonly steps: readonly StepJson[];
  readonly nodes: readonly NodeJson[];
  /** Other images the target is made from (stages it copies or mounts from, its `from(image)` parent), dependencies first. */
  readonly images?: readonly ImageJson[];
}

export interface ParentJson {
  readonly image: string;
  readonly steps: number;
}

export interface ImageJson {
  /** The image's own digest. */
  readonly id: string;
  readonly rootfs: string;
  readonly platform?: string;
  readonly name?: string;
  readonly parent?: ParentJson;
  readonly steps: readonly StepJson[];
}

export interface StepJson {
  readonly instruction: string;
  readonly createdBy: string;
  readonly op?: string;
  readonly edits?: unknown;
  readonly scope?: unknown;
  readonly location?: SourceLocation;
}

export interface NodeJson {
  readonly digest: string;
  readonly kind: string;
  readonly inputs: readonly string[];
  readonly description: string;
  readonly location?: SourceLocation;
  /** Input index → id of the image (in `images`) whose root filesystem that input is. */
  readonly images?: Readonly<Record<string, string>>;
  readonly [field: string]: unknown;
}

/** Every image definition a graph refers to besides its own, dependencies before dependents. */
export function referencedImages(graph: LayerGraph): ImageDefinition[] {
  const out: ImageDefinition[] = [];
  const seen = new Set<Digest>();
  const visitImage = (def: ImageDefinition) => {
    const id = imageDigest(def);
    if (seen.has(id)) return;
    seen.add(id);
    visitDeps(def);
    out.push(def);
  };
  const visitDeps = (def: ImageDefinition) => {
    if (def.parent) visitImage(def.parent.image);
    walkOps([def.rootfs, ...def.steps.flatMap((s) => (s.op ? [s.op] : []))], (op) => {
      for (const img of Object.values(op.meta?.images ?? {})) visitImage(img);
    });
  };
  visitDeps(graph.image);
  // The target itself is not "another" image (an identical stage, e.g. `FROM base AS final`, is).
  return out.filter((d) => d !== graph.image);
}

/** The graph as plain data: stable key order, every node with its digest, description and location. */
export function graphToJson(graph: LayerGraph, opts: { locations?: boolean } = {}): GraphJson {
  const withLoc = opts.locations ?? true;
  const loc = (meta: OpMeta | undefined) => {
    if (!withLoc) return {};
    const l = resolveLocation(meta);
    return l ? { location: l } : {};
  };
  const steps = (list: readonly Step[]): StepJson[] =>
    list.map((s) => ({
      instruction: s.instruction,
      createdBy: s.createdBy,
      ...(s.op ? { op: opDigest(s.op) } : {}),
      ...(s.edits ? { edits: s.edits } : {}),
      ...(s.scope ? { scope: s.scope } : {}),
      ...loc(s.meta),
    }));
  const parent = (def: ImageDefinition) => (def.parent ? { parent: { image: imageDigest(def.parent.image), steps: def.parent.steps } } : {});
  const images = referencedImages(graph);
  const nodes: NodeJson[] = [];
  const allOps = new Map<Digest, Op>(graph.nodes);
  for (const def of images) walkOps([def.rootfs, ...def.steps.flatMap((s) => (s.op ? [s.op] : []))], (op) => allOps.set(opDigest(op), op));
  // Nodes of other images come first where they are inputs; keep a topological order over all.
  const ordered: Op[] = [];
  walkOps([...allOps.values()], (op) => ordered.push(op));
  for (const op of ordered) {
    const { inputs, ...fields } = encodeOp(op) as { inputs: string[]; kind: string } & Record<string, unknown>;
    const imgs = op.meta?.images;
    nodes.push({
      digest: opDigest(op),
      ...fields,
      inputs,
      description: describeOp(op),
      ...loc(op.meta),
      ...(imgs ? { images: Object.fromEntries(Object.entries(imgs).map(([i, d]) => [i, imageDigest(d)])) } : {}),
    });
  }
  return {
    formatVersion: graph.formatVersion,
    digest: graph.digest,
    root: graph.root,
    ...(graph.image.platform !== undefined ? { platform: graph.image.platform } : {}),
    ...(graph.image.name !== undefined ? { name: graph.image.name } : {}),
    ...parent(graph.image),
    steps: steps(graph.image.steps),
    nodes,
    ...(images.length
      ? {
          images: images.map((def) => ({
            id: imageDigest(def),
            rootfs: opDigest(def.rootfs),
            ...(def.platform !== undefined ? { platform: def.platform } : {}),
            ...(def.name !== undefined ? { name: def.name } : {}),
            ...parent(def),
            steps: steps(def.steps),
          })),
        }
      : {}),
  };
}

export function renderJson(graph: LayerGraph, opts: { locations?: boolean } = {}): string {
  return `${JSON.stringify(graphToJson(graph, opts), null, 2)}\n`;
}

const corrupt = (message: string) => new StrataError("STRATA_GRAPH_CORRUPT", message, { hint: "regenerate it with `strata graph`; hand-edited graphs are refused" });

/**
 * Rebuilds a graph from its JSON form and checks every digest: a node or image whose
 * recomputed digest differs (edited by hand, or written by another format version) is an
 * error, never trusted.
 */
export function graphFromJson(data: GraphJson): LayerGraph {
  if (data.formatVersion !== GRAPH_FORMAT_VERSION) {
    throw new StrataError("STRATA_GRAPH_VERSION", `graph format ${data.formatVersion} is not supported (expected ${GRAPH_FORMAT_VERSION})`);
  }
  const ops = new Map<string, Op>();
  const imageJson = new Map((data.images ?? []).map((i) => [i.id, i]));
  const images = new Map<string, ImageDefinition>();
  const opOf = (d: string, what: string) => {
    const op = ops.get(d);
    if (!op) throw corrupt(`${what} names op ${d} before defining it`);
    return op;
  };
  const stepsOf = (list: readonly StepJson[]): Step[] =>
    list.map((s) =>
      deepFreeze({
        instruction: s.instruction,
        createdBy: s.createdBy,
        ...(s.op ? { op: opOf(s.op, `step ${s.createdBy}`) } : {}),
        ...(s.edits ? { edits: s.edits } : {}),
        ...(s.scope ? { scope: s.scope } : {}),
        ...(s.location ? { meta: { location: s.location } } : {}),
      }) as Step,
    );
  const imageOf = (id: string): ImageDefinition => {
    const known = images.get(id);
    if (known) return known;
    const j = imageJson.get(id);
    if (!j) throw corrupt(`image ${id} is referenced but not defined`);
    const def = Object.freeze({
      rootfs: opOf(j.rootfs, `image ${id}`),
      steps: Object.freeze(stepsOf(j.steps)),
      ...(j.platform !== undefined ? { platform: j.platform } : {}),
      ...(j.name !== undefined ? { name: j.name } : {}),
      ...(j.parent ? { parent: Object.freeze({ image: imageOf(j.parent.image), steps: j.parent.steps }) } : {}),
    });
    if (imageDigest(def) !== id) throw corrupt(`image ${id} does not match its content (recomputed ${imageDigest(def)})`);
    images.set(id, def);
    return def;
  };
  for (const node of data.nodes) {
    const { digest, inputs, description: _d, location, images: imgs, ...fields } = node;
    const inputOps = inputs.map((d) => opOf(d, `node ${digest}`));
    const meta = {
      ...(location ? { location } : {}),
      ...(imgs ? { images: Object.freeze(Object.fromEntries(Object.entries(imgs).map(([i, id]) => [i, imageOf(id)]))) } : {}),
    };
    const op = deepFreeze({ ...(fields as Record<string, CanonicalValue>), inputs: inputOps, ...(Object.keys(meta).length ? { meta } : {}) }) as unknown as Op;
    if (!isDigest(digest) || opDigest(op) !== digest) throw corrupt(`node ${digest} does not match its content (recomputed ${opDigest(op)})`);
    ops.set(digest, op);
  }
  const graph = createGraph({
    rootfs: opOf(data.root, "the graph root"),
    steps: stepsOf(data.steps),
    ...(data.platform !== undefined ? { platform: data.platform } : {}),
    ...(data.name !== undefined ? { name: data.name } : {}),
    ...(data.parent ? { parent: { image: imageOf(data.parent.image), steps: data.parent.steps } } : {}),
  });
  if (graph.digest !== (data.digest as Digest)) throw corrupt(`graph digest ${data.digest} does not match its content (recomputed ${graph.digest})`);
  return graph;
}

/** Freezes plain data deeply, stopping at ops and image definitions (already frozen values). */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) if (v && typeof v === "object" && !("inputs" in v) && !("rootfs" in v)) deepFreeze(v);
  }
  return value;
}
