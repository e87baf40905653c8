/**
 * Runs `fn` over `items` with at most `limit` in flight; results keep the input order. The
 * first failure stops new work from starting, aborts the running ones (through the signal
 * handed to `fn`) and is rethrown once they settle, so no transfer is left writing in the
 * background after the caller saw the error.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number, signal: AbortSignal) => Promise<R>, parent?: AbortSignal): Promise<R[]> {
  // Siblings of a failed item are aborted rather than left to finish a long transfer.
  const ac = new AbortController();
  const onParentAbort = (): void => ac.abort(parent?.reason);
  parent?.addEventListener("abort", onParentAbort, { once: true });
  if (parent?.aborted) ac.abort(parent.reason);
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i, ac.signal);
      } catch (e) {
        if (!failed) {
          failed = true;
          firstError = e;
          ac.abort(e);
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  } finally {
    parent?.removeEventListener("abort", onParentAbort);
  }
  if (failed) throw firstError;
  return results;
}
