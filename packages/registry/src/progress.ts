import type { Digest } from "@strata/graph";

/** One blob's state during a pull or push; `done`/`total` in bytes. */
export interface BlobProgress {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly total: number;
  readonly done: number;
  readonly status: "exists" | "downloading" | "uploading" | "mounted" | "retrying" | "done";
  /** Set with `retrying`: why. */
  readonly reason?: string;
}

export type ProgressCallback = (p: BlobProgress) => void;

/** Emits `downloading`/`uploading` at most every `step` bytes, so a 1 GB layer is not 16k calls. */
export function throttledProgress(cb: ProgressCallback | undefined, base: Omit<BlobProgress, "done" | "status">, status: "downloading" | "uploading", step = 1 << 20): (done: number) => void {
  let last = -step;
  return (done) => {
    if (!cb) return;
    if (done - last >= step || done === base.total) {
      last = done;
      cb({ ...base, done, status });
    }
  };
}
