import {
  imageDigest,
  referencedImages,
  resolveLocation,
  StrataError,
  templateLiteralValue,
  type Digest,
  type ImageDefinition,
  type LayerGraph,
  type Op,
  type SelectOp,
  type SourceOp,
  type Step,
} from "@strata/graph";

/** One stage of the exported Dockerfile. */
export interface StagePlan {
  readonly def: ImageDefinition;
  readonly id: Digest;
  /** The stage's name, when another stage refers to it (or it was named). */
  name: string | undefined;
  /** `FROM` argument: another stage, an image source, or the stage a build arg names (`FROM base-$TARGETOS`). */
  readonly base: { readonly stage: StagePlan } | { readonly source: SourceOp } | { readonly select: SelectOp };
  /** The steps this stage adds (after its parent's). */
  readonly steps: readonly Step[];
}

/**
 * Rebuilds the stages of a graph: every image the target copies or mounts from, and the
 * `from(image)` parents, become stages (dependencies first, the target last), each starting
 * from its parent stage or from the image source at the bottom of its filesystem chain.
 */
export function planStages(
  graph: LayerGraph,
  opts: { targetName?: string | undefined; stageNames?: ReadonlyMap<string, string> | undefined; also?: ReadonlyArray<{ readonly graph: LayerGraph; readonly name?: string | undefined }> | undefined },
): StagePlan[] {
  const byId = new Map<Digest, StagePlan>();
  const plans: StagePlan[] = [];
  const plan = (def: ImageDefinition): StagePlan => {
    const id = imageDigest(def);
    const known = byId.get(id);
    if (known) return known;
    // A stage with no steps of its own (`FROM base AS alias`) is its parent.
    if (def.parent && imageDigest(def.parent.image) === id) return plan(def.parent.image);
    let base: StagePlan["base"];
    let steps: readonly Step[];
    if (def.parent) {
      base = { stage: plan(def.parent.image) };
      steps = def.steps.slice(def.parent.steps);
    } else {
      const bottom = bottomSource(def);
      base = bottom.kind === "SelectOp" ? { select: bottom } : { source: bottom };
      steps = def.steps;
    }
    const p: StagePlan = { def, id, name: def.name ?? opts.stageNames?.get(id), base, steps };
    byId.set(id, p);
    plans.push(p);
    return p;
  };
  const fallbacks = selectFallbacks(graph);
  for (const t of opts.also ?? []) for (const d of selectFallbacks(t.graph)) fallbacks.add(d);
  // Whole-file export: every stage in its order, each after what it reads; one image under two names gets an alias stage.
  for (const t of opts.also ?? []) {
    for (const def of referencedImages(t.graph)) if (!fallbacks.has(imageDigest(def))) plan(def);
    const before = byId.get(t.graph.digest);
    const p = plan(t.graph.image);
    const isLast = t === opts.also![opts.also!.length - 1];
    if (t.name === undefined) {
      // An unnamed stage built on a named one inherits that name as provenance; it is not its own
      // name (two stages would carry it).
      if (!before && p.name !== undefined && (opts.also ?? []).some((o) => o.name === p.name)) p.name = undefined;
      // The last stage is the default target: it stays last even when it is an earlier stage again (`FROM binaries`).
      if (isLast && plans[plans.length - 1] !== p) pushAlias(plans, p, undefined);
      continue;
    }
    if ((before && before.name !== undefined && before.name !== t.name) || (isLast && plans[plans.length - 1] !== p)) pushAlias(plans, p, t.name);
    else p.name = t.name;
  }
  for (const def of [...referencedImages(graph), graph.image]) if (!fallbacks.has(imageDigest(def)) || def === graph.image) plan(def);
  // The target is the last stage, even when an identical stage was planned earlier.
  const target = byId.get(graph.digest)!;
  // (A whole-file export keeps the file's order: the last stage is last already, maybe as an alias.)
  if (!opts.also?.length && plans[plans.length - 1] !== target) {
    plans.splice(plans.indexOf(target), 1);
    plans.push(target);
  }
  // Names a whole-file export keeps as written.
  const fixed = new Set<string>((opts.also ?? []).flatMap((t) => (t.name !== undefined ? [t.name] : [])));
  const reserved = nameSelectedStages(plans, byId, fixed);
  nameStages(plans, byId, opts.targetName, reserved);
  return plans;
}

/**
 * The image each select falls back to when it is the select's own template read as an image
 * reference (what BuildKit does when the value names no stage): the FROM line says that by
 * itself, so such an image is no stage of its own. Any other fallback cannot be written.
 */
function selectFallbacks(graph: LayerGraph): Set<Digest> {
  const out = new Set<Digest>();
  for (const def of [...referencedImages(graph), graph.image]) {
    const op = def.parent ? undefined : bottomSource(def);
    if (op?.kind !== "SelectOp" || !op.fallback) continue;
    const fb = op.meta?.images?.[op.inputs.length - 1];
    const src = fb && !fb.steps.length && fb.rootfs.kind === "SourceOp" ? fb.rootfs.source : undefined;
    if (!fb || src?.type !== "image" || src.transport || src.ref !== op.key) {
      throw new StrataError("STRATA_EXPORT_UNSUPPORTED", `stageFor(${JSON.stringify(op.key)}, …, { otherwise }) falls back to an image a Dockerfile FROM cannot name`, {
        locations: [resolveLocation(op.meta)],
        hint: "a Dockerfile reads a value that names no stage as an image reference: use otherwise: from(<the same template>), or leave otherwise out",
      });
    }
    out.add(imageDigest(fb));
  }
  return out;
}

/**
 * The stages a select picks from must carry exactly the names the key expands to. One image
 * under two names (two identical stages) gets an alias stage (`FROM a AS b`).
 */
function nameSelectedStages(plans: StagePlan[], byId: Map<Digest, StagePlan>, fixed: ReadonlySet<string>): Set<string> {
  const reserved = new Set<string>(fixed);
  for (const p of [...plans]) {
    if (!("select" in p.base)) continue;
    const op = p.base.select;
    for (const [i, name] of op.names.entries()) {
      const id = imageDigest(op.meta!.images![i]!);
      if (plans.some((q) => q.id === id && q.name === name)) {
        reserved.add(name);
        continue;
      }
      const target = byId.get(id)!;
      if (target.name === undefined || !reserved.has(target.name)) {
        target.name = name;
      } else {
        const alias: StagePlan = { def: target.def, id: target.id, name, base: { stage: target }, steps: [] };
        plans.splice(plans.indexOf(target) + 1, 0, alias);
      }
      reserved.add(name);
    }
  }
  return reserved;
}

/** The stage planned for an image definition. */
function pushAlias(plans: StagePlan[], target: StagePlan, name: string | undefined): void {
  plans.push({ def: target.def, id: target.id, name, base: { stage: target }, steps: [] });
}

/** The FROM --platform of a select's fallback image (the FROM line carries it for both readings). */
export function selectPlatform(op: SelectOp): string | undefined {
  if (!op.fallback) return undefined;
  const fb = op.meta?.images?.[op.inputs.length - 1];
  return fb?.rootfs.kind === "SourceOp" && fb.rootfs.source.type === "image" ? fb.rootfs.source.platform : undefined;
}

export function stageOf(plans: readonly StagePlan[], def: ImageDefinition): StagePlan | undefined {
  const id = imageDigest(def);
  return plans.find((p) => p.id === id);
}

/** The source op at the bottom of an image's filesystem chain (what its FROM names), or the stage select there. */
function bottomSource(def: ImageDefinition): SourceOp | SelectOp {
  let op: Op = def.rootfs;
  const firstFs = def.steps.find((s) => s.op);
  if (firstFs?.op) op = firstFs.op.inputs[0] ?? firstFs.op;
  while (op.kind !== "SourceOp") {
    if (op.kind === "SelectOp") return op;
    const input = op.inputs[0];
    if (!input) break;
    op = input;
  }
  if (op.kind !== "SourceOp" || (op.source.type !== "image" && op.source.type !== "scratch")) {
    throw new StrataError("STRATA_EXPORT_UNSUPPORTED", `an image whose filesystem starts with ${op.kind === "SourceOp" ? `a ${op.source.type} source` : `a ${op.kind}`} has no Dockerfile FROM`, {
      locations: [resolveLocation(op.meta)],
      hint: "start images with from(…) or scratch()",
    });
  }
  return op;
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

function nameStages(plans: StagePlan[], byId: Map<Digest, StagePlan>, targetName: string | undefined, reserved: ReadonlySet<string>): void {
  const referenced = new Set<StagePlan>();
  for (const p of plans) {
    if ("stage" in p.base) referenced.add(p.base.stage);
    if ("select" in p.base) for (const img of Object.values(p.base.select.meta?.images ?? {})) referenced.add(byId.get(imageDigest(img))!);
    for (const s of p.steps) {
      for (const img of Object.values(s.op?.meta?.images ?? {})) {
        const ref = byId.get(imageDigest(img));
        if (ref) referenced.add(ref);
      }
    }
  }
  const used = new Set<string>(reserved);
  const take = (wanted: string) => {
    let name = wanted.toLowerCase().replace(/[^a-z0-9-_.]/g, "-").replace(/^[^a-z]+/, "") || "stage";
    if (!STAGE_NAME.test(name)) name = "stage";
    let n = name;
    for (let i = 2; used.has(n); i++) n = `${name}-${i}`;
    used.add(n);
    return n;
  };
  for (const p of plans) if (p.name !== undefined && !reserved.has(p.name)) p.name = take(p.name);
  const last = plans[plans.length - 1]!;
  if (targetName !== undefined && last.name === undefined) last.name = take(targetName);
  for (const p of plans) {
    if (p.name !== undefined || !referenced.has(p)) continue;
    p.name = take(suggestName(p));
  }
}

/** `golang:1.23` → `golang`; a stage of a stage → its parent's name with `-2`. */
function suggestName(p: StagePlan): string {
  if ("stage" in p.base) return p.base.stage.name ?? "stage";
  if ("select" in p.base) return "stage";
  const s = p.base.source.source;
  if (s.type !== "image") return "stage";
  // The literal part of the reference before any build arg: `golang:$GO` → `golang`.
  const ref = templateLiteralValue(s.ref) ?? s.ref.split("$")[0] ?? "";
  const last = ref.split("/").pop() ?? ref;
  return last.split(/[:@]/)[0] || "stage";
}
