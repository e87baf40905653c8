import { createHash } from "node:crypto";
import { describeOp, encodeOp, opDigest, walkOps, type Digest, type LayerGraph, type Op } from "@strata/graph";
import { readJsonOrUndefined, writeJsonAtomic } from "../store/atomic.ts";
import type { Store } from "../store/store.ts";

/** What an op read, as recorded for --explain (never secret values). */
export interface ExplainInfo {
  /** Named inputs and their cache keys (`base`, `source`, mount targets). */
  readonly inputs?: Readonly<Record<string, string>>;
  /** Resolved values that are part of the key (expanded paths, env, args). */
  readonly values?: Readonly<Record<string, unknown>>;
  /** Context files read: path → content digest. */
  readonly files?: Readonly<Record<string, string>>;
}

interface StepRecord {
  readonly name: string;
  readonly digest: string;
  readonly key: string;
  readonly op: unknown;
  readonly info: ExplainInfo;
}

interface TargetRecord {
  readonly version: 1;
  readonly steps: Readonly<Record<string, StepRecord>>;
}

/**
 * --explain: for every cache miss, says what changed since the last build of the same target
 * (a file, a build arg, the command, an earlier step, the base image). Each op is matched to
 * the last build's by its digest, else by its slot (its kind and position in the target's
 * graph), so an edited command is recognised as "this step changed", not as a new one.
 */
export class ExplainRecorder {
  private readonly path: string;
  private readonly previous: TargetRecord | undefined;
  private readonly current: Record<string, StepRecord> = {};
  private readonly infos = new Map<Op, ExplainInfo>();
  private slots = new Map<Op, string>();
  private readonly byDigest = new Map<string, StepRecord>();

  constructor(store: Store, target: string) {
    this.path = store.path("explain", `${createHash("sha256").update(target).digest("hex").slice(0, 32)}.json`);
    this.previous = readJsonOrUndefined<TargetRecord>(this.path);
    for (const s of Object.values(this.previous?.steps ?? {})) this.byDigest.set(s.digest, s);
  }

  /** Numbers the graph's ops by kind in a deterministic order (the slots steps are matched by). */
  begin(graph: LayerGraph): void {
    const counts: Record<string, number> = {};
    const slots = new Map<Op, string>();
    walkOps([graph.image.rootfs], (op) => {
      const n = (counts[op.kind] ?? 0) + 1;
      counts[op.kind] = n;
      slots.set(op, `${op.kind}#${n}`);
    });
    this.slots = slots;
  }

  note(op: Op, info: ExplainInfo): void {
    this.infos.set(op, info);
  }

  hit(op: Op, key: Digest): void {
    this.record(op, key);
  }

  /** Why `op` missed the cache, in words; and records it for the next build. */
  miss(op: Op, key: Digest, noCache: boolean): string[] {
    const prevAtSlot = this.previous?.steps[this.slots.get(op) ?? ""];
    const prevSame = this.byDigest.get(opDigest(op));
    this.record(op, key);
    if (noCache) return ["--no-cache was given"];
    if (!this.previous) return ["no earlier build of this target to compare with"];
    const info = this.infos.get(op) ?? {};
    if (prevSame) return diffInfo(prevSame.info, info);
    // The same step over a differently filtered context (include/exclude changed): name the
    // files it reads now and did not, or no longer reads.
    if (prevAtSlot && (prevAtSlot.info.files || info.files) && sameExceptInputs(prevAtSlot.op, encodeOp(op))) return diffInfo(prevAtSlot.info, info);
    if (prevAtSlot) return diffOp(prevAtSlot, op);
    return ["a new step (not in the last build of this target)"];
  }

  private record(op: Op, key: Digest): void {
    const slot = this.slots.get(op) ?? `${op.kind}#${opDigest(op).slice(7, 19)}`;
    this.current[slot] = { name: describeOp(op), digest: opDigest(op), key, op: encodeOp(op), info: this.infos.get(op) ?? {} };
  }

  save(): void {
    writeJsonAtomic(this.path, { version: 1, steps: this.current } satisfies TargetRecord);
  }
}

function short(v: unknown): string {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function diffInfo(prev: ExplainInfo, cur: ExplainInfo): string[] {
  const out: string[] = [];
  const files = diffMaps(prev.files ?? {}, cur.files ?? {});
  if (files.changed.length) out.push(`file${files.changed.length > 1 ? "s" : ""} changed: ${list(files.changed)}`);
  if (files.added.length) out.push(`file${files.added.length > 1 ? "s" : ""} added: ${list(files.added)}`);
  if (files.removed.length) out.push(`file${files.removed.length > 1 ? "s" : ""} removed: ${list(files.removed)}`);
  for (const [k, v] of Object.entries(cur.values ?? {})) {
    const p = prev.values?.[k];
    if (JSON.stringify(p) === JSON.stringify(v)) continue;
    const vars = envDiff(p, v);
    out.push(vars ? `${k} changed: ${vars}` : `${k} changed: ${short(p ?? "(unset)")} → ${short(v ?? "(unset)")}`);
  }
  for (const [k, v] of Object.entries(cur.inputs ?? {})) {
    if (prev.inputs?.[k] !== undefined && prev.inputs[k] !== v) out.push(`its input ${k} changed (an earlier step was rebuilt)`);
  }
  return out.length ? out : ["its inputs changed"];
}

function sameExceptInputs(before: unknown, cur: unknown): boolean {
  const strip = (o: unknown) => JSON.stringify({ ...(o as Record<string, unknown>), inputs: undefined });
  return strip(before) === strip(cur);
}

function diffOp(prev: StepRecord, op: Op): string[] {
  const cur = encodeOp(op) as Record<string, unknown>;
  const before = prev.op as Record<string, unknown>;
  const out: string[] = [];
  for (const k of new Set([...Object.keys(before), ...Object.keys(cur)])) {
    if (k === "inputs") continue;
    if (JSON.stringify(before[k]) !== JSON.stringify(cur[k])) out.push(`its ${k} changed: ${short(before[k] ?? "(none)")} → ${short(cur[k] ?? "(none)")}`);
  }
  if (JSON.stringify(before.inputs) !== JSON.stringify(cur.inputs)) out.push("an earlier step it builds on changed");
  return out.length ? out : [`the step changed (was: ${prev.name})`];
}

function diffMaps(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) {
  const changed: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  for (const [k, v] of Object.entries(b)) {
    if (!(k in a)) added.push(k);
    else if (a[k] !== v) changed.push(k);
  }
  for (const k of Object.keys(a)) if (!(k in b)) removed.push(k);
  return { changed, added, removed };
}

function list(paths: string[]): string {
  const shown = paths.slice(0, 5).join(", ");
  return paths.length > 5 ? `${shown} and ${paths.length - 5} more` : shown;
}

/** For `K=V` lists (an environment): just the variables that differ, e.g. `VERSION=1 → VERSION=2`. */
function envDiff(before: unknown, after: unknown): string | undefined {
  const isEnv = (x: unknown): x is string[] => Array.isArray(x) && x.every((e) => typeof e === "string" && /^[^=]+=/.test(e));
  if (!isEnv(before) || !isEnv(after)) return undefined;
  const map = (l: string[]) => new Map(l.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)] as const));
  const a = map(before);
  const b = map(after);
  const parts: string[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    if (a.get(k) === b.get(k)) continue;
    parts.push(`${a.has(k) ? `${k}=${short(a.get(k))}` : `(no ${k})`} → ${b.has(k) ? `${k}=${short(b.get(k))}` : `(no ${k})`}`);
  }
  return parts.join(", ");
}
