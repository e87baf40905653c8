import { canonicalJson, type CanonicalValue } from "../canonical.ts";
import { sha256Digest, type Digest } from "../digest.ts";
import type { ExecOp } from "./exec-op.ts";
import type { FileOp } from "./file-op.ts";
import type { MergeOp } from "./merge-op.ts";
import type { SelectOp } from "./select-op.ts";
import type { SourceOp } from "./source-op.ts";

export type Op = SourceOp | ExecOp | FileOp | MergeOp | SelectOp;
export type OpKind = Op["kind"];

/**
 * A handler per op kind. Compilers implement this mapped type, so adding an op kind breaks
 * every compiler at compile time instead of silently falling through.
 */
export type OpVisitor<R> = { readonly [K in OpKind]: (op: Extract<Op, { kind: K }>) => R };

export function visitOp<R>(op: Op, visitor: OpVisitor<R>): R {
  return (visitor[op.kind] as (op: Op) => R)(op);
}

/**
 * Bumped whenever the encoding below changes meaning. Old digests then change on purpose,
 * and the cache (whose keys derive from these digests) starts fresh instead of lying.
 */
export const OP_FORMAT_VERSION = 1;

const digests = new WeakMap<Op, Digest>();

/** The op's identity: sha256 over its canonical encoding, inputs by digest. Memoized per op value. */
export function opDigest(op: Op): Digest {
  let d = digests.get(op);
  if (!d) {
    d = sha256Digest(`strata.op/v${OP_FORMAT_VERSION}\n${canonicalJson(encodeOp(op))}`);
    digests.set(op, d);
  }
  return d;
}

/** The op as plain data with inputs replaced by their digests and provenance (`meta`) left out. */
export function encodeOp(op: Op): { readonly [key: string]: CanonicalValue } {
  const { meta: _meta, inputs, ...fields } = op as Op & { meta?: unknown };
  return { ...(fields as unknown as Record<string, CanonicalValue>), inputs: inputs.map(opDigest) };
}

/** Post-order walk (inputs before the op), each distinct op once. */
export function walkOps(roots: readonly Op[], visit: (op: Op) => void): void {
  const seen = new Set<Op>();
  const seenDigest = new Set<Digest>();
  const stack: Array<{ op: Op; expanded: boolean }> = roots.map((op) => ({ op, expanded: false })).reverse();
  while (stack.length) {
    const top = stack.pop()!;
    if (seen.has(top.op) && !top.expanded) continue;
    if (top.expanded) {
      const d = opDigest(top.op);
      if (!seenDigest.has(d)) {
        seenDigest.add(d);
        visit(top.op);
      }
      continue;
    }
    seen.add(top.op);
    stack.push({ op: top.op, expanded: true });
    for (let i = top.op.inputs.length - 1; i >= 0; i--) {
      const input = top.op.inputs[i]!;
      if (!seen.has(input)) stack.push({ op: input, expanded: false });
    }
  }
}
