import { visitOp, type Digest, type Op } from "@strata/graph";
import type { CacheRecord } from "../solver/results.ts";

/**
 * What a build did, for `--cache-to`: every layer-producing step's cache key and record (hits
 * and misses alike), and the cache mounts its RUN steps used. `select` picks what a mode
 * exports: min, the steps whose layers make the image (the root filesystem's chain); max,
 * every step of every stage built.
 */
export class CacheCollector {
  private readonly steps = new Map<Op, { readonly key: Digest; readonly record: CacheRecord }>();
  /** Cache mount id → its directory in the store. */
  readonly mounts = new Map<string, string>();

  /** Notes a step's key and what the store recorded for it (a hit's record, or a miss's new one). */
  record(op: Op, key: Digest, record: CacheRecord): void {
    this.steps.set(op, { key, record });
  }

  /** Notes a cache mount a RUN step used, and its directory in the store. */
  mountUsed(id: string, dir: string): void {
    this.mounts.set(id, dir);
  }

  /** The records to export, keyed by cache key. */
  select(rootfs: Op, mode: "min" | "max"): Map<Digest, CacheRecord> {
    const out = new Map<Digest, CacheRecord>();
    if (mode === "max") {
      for (const s of this.steps.values()) out.set(s.key, s.record);
      return out;
    }
    // The chain of filesystems under the image: each RUN's and file op's first input, every
    // merge input; other inputs (COPY --from a stage, bind mounts) are not in the image.
    const stack: Op[] = [rootfs];
    const seen = new Set<Op>();
    while (stack.length) {
      const op = stack.pop()!;
      if (seen.has(op)) continue;
      seen.add(op);
      const s = this.steps.get(op);
      if (s) out.set(s.key, s.record);
      visitOp<void>(op, {
        SourceOp: () => {},
        FileOp: (o) => void stack.push(o.inputs[0]!),
        ExecOp: (o) => void stack.push(o.inputs[0]!),
        MergeOp: (o) => void stack.push(...o.inputs),
        // An unresolved stage choice: only the candidate this build solved has records.
        SelectOp: (o) => void stack.push(...o.inputs),
      });
    }
    return out;
  }
}
