import type { OpMeta } from "../source-location.ts";
import type { Op } from "./op.ts";

/** Stacks the inputs' filesystems in order, later ones on top (BuildKit's MergeOp). */
export interface MergeOp {
  readonly kind: "MergeOp";
  readonly inputs: readonly Op[];
  readonly meta?: OpMeta;
}

export const MergeOp = Object.freeze({
  create(inputs: readonly Op[], meta?: OpMeta): MergeOp {
    if (inputs.length < 2) throw new TypeError("MergeOp needs at least two inputs");
    return Object.freeze({ kind: "MergeOp", inputs: Object.freeze([...inputs]), ...(meta ? { meta } : {}) });
  },
  is(op: { kind: string }): op is MergeOp {
    return op.kind === "MergeOp";
  },
});
