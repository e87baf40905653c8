import { StrataError } from "./diagnostic.ts";
import { ScopeState, type EvalContext } from "./evaluate.ts";
import type { ImageDefinition } from "./layer-graph.ts";
import { walkOps, type Op } from "./ops/op.ts";
import type { SelectOp } from "./ops/select-op.ts";
import type { ScopeEntry } from "./scope.ts";
import { resolveLocation, type OpMeta } from "./source-location.ts";
import type { Step } from "./step.ts";

/** What a stage built on a picked stage inherits from it, besides its filesystem. */
interface Inherited {
  readonly image: ImageDefinition;
  /** The picked stage's scope (its ARG/ENV/WORKDIR entries) and a stage boundary. */
  readonly scope: readonly ScopeEntry[];
  readonly user: string | undefined;
  readonly shell: readonly string[] | undefined;
}

/** True when the definition (or an image it copies from) has a stage chosen by a build arg. */
export function hasSelect(def: ImageDefinition): boolean {
  let found = false;
  walkOps([def.rootfs, ...def.steps.flatMap((s) => (s.op ? [s.op] : []))], (op) => {
    if (op.kind === "SelectOp") found = true;
  });
  return found;
}

/** The value of a select's key for a build: FROM lines see the global args and the predefined platform args. */
export function selectKeyValue(op: SelectOp, ctx: EvalContext): string {
  return new ScopeState(ctx, {}, { implicitPredefined: true }).applyAll(op.scope ?? []).expand(op.key);
}

/** The input a select picks for a build (index into `inputs`), or a coded error naming the choices. */
export function selectIndex(op: SelectOp, ctx: EvalContext): number {
  const value = selectKeyValue(op, ctx);
  // Stage names are lower-case; BuildKit matches a FROM value against them case-insensitively.
  const i = op.names.indexOf(value.toLowerCase());
  if (i >= 0) return i;
  if (op.fallback) return op.inputs.length - 1;
  throw new StrataError("STRATA_STAGE_SELECT", `${op.key} is ${JSON.stringify(value)} in this build, which names none of the stages ${op.names.join(", ")}`, {
    hint: `pass a build arg that gives one of: ${op.names.join(", ")}`,
    locations: [resolveLocation(op.meta)],
  });
}

/**
 * The definition with every stage chosen by a build arg replaced by the stage the build's args
 * pick, as if the Dockerfile had named it (`FROM base-$TARGETOS` → `FROM base-linux`): the new
 * stage starts from the picked stage's filesystem, config, history, scope, user and shell.
 * Definitions without a select come back unchanged (the same objects, so cache keys stay).
 */
export function resolveSelects(def: ImageDefinition, ctx: EvalContext): ImageDefinition {
  const ops = new Map<Op, { op: Op; inherited: Inherited | undefined }>();
  const defs = new Map<ImageDefinition, ImageDefinition>();

  const resolveMeta = (meta: OpMeta | undefined): OpMeta | undefined => {
    if (!meta?.images) return meta;
    const images = Object.fromEntries(Object.entries(meta.images).map(([i, d]) => [i, resolveDef(d)]));
    return { ...meta, images: Object.freeze(images) };
  };

  const resolveOp = (op: Op): { op: Op; inherited: Inherited | undefined } => {
    const known = ops.get(op);
    if (known) return known;
    let out: { op: Op; inherited: Inherited | undefined };
    if (op.kind === "SelectOp") {
      const i = selectIndex(op, ctx);
      const image = resolveDef(op.meta!.images![i]!);
      out = { op: image.rootfs, inherited: inheritedFrom(image) };
    } else if (!op.inputs.length) {
      out = { op, inherited: undefined };
    } else {
      const inputs = op.inputs.map(resolveOp);
      // The root filesystem chain (inputs[0] of a RUN or a file op) carries the picked stage's scope.
      const inherited = op.kind === "ExecOp" || op.kind === "FileOp" ? inputs[0]!.inherited : undefined;
      const changed = inputs.some((r, i) => r.op !== op.inputs[i]);
      if (!changed && !inherited) out = { op, inherited: undefined };
      else {
        const meta = resolveMeta(op.meta);
        const base = { ...op, inputs: Object.freeze(inputs.map((r) => r.op)), ...(meta ? { meta } : {}) } as Op;
        let next: Op = base;
        if (inherited && base.kind === "ExecOp") {
          next = {
            ...base,
            scope: Object.freeze([...inherited.scope, ...base.scope]),
            ...(base.user === undefined && inherited.user !== undefined ? { user: inherited.user } : {}),
            ...(base.shell === undefined && inherited.shell !== undefined ? { shell: inherited.shell } : {}),
          };
        } else if (inherited && base.kind === "FileOp") {
          next = { ...base, scope: Object.freeze([...inherited.scope, ...base.scope]) };
        }
        out = { op: Object.freeze(next), inherited };
      }
    }
    ops.set(op, out);
    return out;
  };

  const resolveStep = (step: Step): Step => {
    if (!step.op) return step;
    const r = resolveOp(step.op).op;
    return r === step.op ? step : Object.freeze({ ...step, op: r });
  };

  const resolveDef = (d: ImageDefinition): ImageDefinition => {
    const known = defs.get(d);
    if (known) return known;
    const root = resolveOp(d.rootfs);
    const steps = d.steps.map(resolveStep);
    const parent = d.parent ? resolveDef(d.parent.image) : undefined;
    let out: ImageDefinition;
    if (root.inherited) {
      // Every step of a stage on a picked stage comes after the pick; the picked stage's steps come first.
      const picked = root.inherited.image;
      const platform = d.platform ?? picked.platform;
      out = Object.freeze({
        rootfs: root.op,
        steps: Object.freeze([...picked.steps, ...steps]),
        ...(platform !== undefined ? { platform } : {}),
        parent: d.parent ? { image: parent!, steps: d.parent.steps + picked.steps.length } : { image: picked, steps: picked.steps.length },
        ...(d.name !== undefined ? { name: d.name } : {}),
      });
    } else if (root.op === d.rootfs && steps.every((s, i) => s === d.steps[i]) && parent === d.parent?.image) {
      out = d;
    } else {
      out = Object.freeze({ ...d, rootfs: root.op, steps: Object.freeze(steps), ...(d.parent ? { parent: { image: parent!, steps: d.parent.steps } } : {}) });
    }
    defs.set(d, out);
    return out;
  };

  return resolveDef(def);
}

/** A resolved stage's scope (its steps' entries, stage boundaries where `from(image)` started one), user and shell. */
function inheritedFrom(image: ImageDefinition): Inherited {
  const starts = new Set<number>();
  for (let p = image.parent; p; p = p.image.parent) starts.add(p.steps);
  const scope: ScopeEntry[] = [];
  let user: string | undefined;
  let shell: readonly string[] | undefined;
  image.steps.forEach((step, i) => {
    if (starts.has(i)) scope.push({ stage: true });
    scope.push(...(step.scope ?? []));
    for (const e of step.edits ?? []) {
      if (e.edit === "user") user = e.user;
      else if (e.edit === "shell") shell = e.shell;
    }
  });
  scope.push({ stage: true });
  return { image, scope: Object.freeze(scope), user, shell };
}
