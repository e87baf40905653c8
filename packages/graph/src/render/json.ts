import type { CanonicalValue } from "../canonical.ts";
import { isDigest, type Digest } from "../digest.ts";
import { createGraph, GRAPH_FORMAT_VERSION, type LayerGraph } from "../layer-graph.ts";
import { encodeOp, opDigest, type Op } from "../ops/op.ts";
import { resolveLocation, type SourceLocation } from "../source-location.ts";
import type { Step } from "../step.ts";
import { StrataError } from "../diagnostic.ts";
import { describeOp } from "./describe.ts";

export interface GraphJson {
  readonly formatVersion: number;
  readonly digest: string;
  readonly root: string;
  readonly platform?: string;
  readonly steps: readonly StepJson[];
  readonly nodes: readonly NodeJson[];
}

export interface StepJson {
  readonly instruction: string;
  readonly createdBy: string;
  readonly op?: string;
  readonly edits?: unknown;
  readonly args?: unknown;
  readonly location?: SourceLocation;
}

export interface NodeJson {
  readonly digest: string;
  readonly kind: string;
  readonly inputs: readonly string[];
  readonly description: string;
  readonly location?: SourceLocation;
  readonly [field: string]: unknown;
}

/** The graph as plain data: stable key order, every node with its digest, description and location. */
export function graphToJson(graph: LayerGraph, opts: { locations?: boolean } = {}): GraphJson {
  const withLoc = opts.locations ?? true;
  const loc = (meta: Op["meta"]) => {
    if (!withLoc) return {};
    const l = resolveLocation(meta);
    return l ? { location: l } : {};
  };
  const nodes: NodeJson[] = [];
  for (const [digest, op] of graph.nodes) {
    const { inputs, ...fields } = encodeOp(op) as { inputs: string[]; kind: string } & Record<string, unknown>;
    nodes.push({ digest, ...fields, inputs, description: describeOp(op), ...loc(op.meta) });
  }
  const steps: StepJson[] = graph.image.steps.map((s) => ({
    instruction: s.instruction,
    createdBy: s.createdBy,
    ...(s.op ? { op: opDigest(s.op) } : {}),
    ...(s.edits ? { edits: s.edits } : {}),
    ...(s.args ? { args: s.args } : {}),
    ...loc(s.meta),
  }));
  return {
    formatVersion: graph.formatVersion,
    digest: graph.digest,
    root: graph.root,
    ...(graph.image.platform !== undefined ? { platform: graph.image.platform } : {}),
    steps,
    nodes,
  };
}

export function renderJson(graph: LayerGraph, opts: { locations?: boolean } = {}): string {
  return `${JSON.stringify(graphToJson(graph, opts), null, 2)}\n`;
}

/**
 * Rebuilds a graph from its JSON form and checks every digest: a node whose recomputed digest
 * differs (edited by hand, or written by another format version) is an error, never trusted.
 */
export function graphFromJson(data: GraphJson): LayerGraph {
  if (data.formatVersion !== GRAPH_FORMAT_VERSION) {
    throw new StrataError("STRATA_GRAPH_VERSION", `graph format ${data.formatVersion} is not supported (expected ${GRAPH_FORMAT_VERSION})`);
  }
  const ops = new Map<string, Op>();
  for (const node of data.nodes) {
    const { digest, inputs, description: _d, location, ...fields } = node;
    const inputOps = inputs.map((d) => {
      const op = ops.get(d);
      if (!op) throw new StrataError("STRATA_GRAPH_CORRUPT", `node ${digest} names input ${d} before defining it`);
      return op;
    });
    const op = deepFreeze({ ...(fields as Record<string, CanonicalValue>), inputs: inputOps, ...(location ? { meta: { location } } : {}) }) as unknown as Op;
    if (!isDigest(digest) || opDigest(op) !== digest) {
      throw new StrataError("STRATA_GRAPH_CORRUPT", `node ${digest} does not match its content (recomputed ${opDigest(op)})`);
    }
    ops.set(digest, op);
  }
  const root = ops.get(data.root);
  if (!root) throw new StrataError("STRATA_GRAPH_CORRUPT", `root ${data.root} is not among the nodes`);
  const steps: Step[] = data.steps.map((s) => {
    const op = s.op ? ops.get(s.op) : undefined;
    if (s.op && !op) throw new StrataError("STRATA_GRAPH_CORRUPT", `step ${s.createdBy} names unknown op ${s.op}`);
    return deepFreeze({
      instruction: s.instruction,
      createdBy: s.createdBy,
      ...(op ? { op } : {}),
      ...(s.edits ? { edits: s.edits } : {}),
      ...(s.args ? { args: s.args } : {}),
      ...(s.location ? { meta: { location: s.location } } : {}),
    }) as Step;
  });
  const graph = createGraph({ rootfs: root, steps, ...(data.platform !== undefined ? { platform: data.platform } : {}) });
  if (graph.digest !== (data.digest as Digest)) {
    throw new StrataError("STRATA_GRAPH_CORRUPT", `graph digest ${data.digest} does not match its content (recomputed ${graph.digest})`);
  }
  return graph;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) if (v && typeof v === "object" && !("kind" in v && "inputs" in v)) deepFreeze(v);
  }
  return value;
}
