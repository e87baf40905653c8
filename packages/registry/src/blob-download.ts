import { once } from "node:events";
import { PassThrough } from "node:stream";
import { StrataError } from "@strata/graph";
import type { BlobStore, Descriptor } from "@strata/oci";
import { registryError, RegistryErrorCode } from "./errors.ts";
import { drain, header, isTransientNetworkError, transferDeadlineMs, type HttpResponse } from "./http.ts";
import { throttledProgress, type ProgressCallback } from "./progress.ts";
import { abortError, isRetryableStatus, responseRetryAfterMs, type RetryOptions } from "./retry.ts";
import { repositoryScope, responseError, type RegistryTransport } from "./transport.ts";

export interface DownloadOptions {
  readonly onProgress?: ProgressCallback;
  readonly signal?: AbortSignal;
  readonly retry?: RetryOptions;
}

/** Internal: a failure that a Range request (or a fresh attempt) may get past. */
class Interrupted extends Error {
  constructor(
    message: string,
    /** The server's `Retry-After`, ms, when it sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * Streams one blob into `store`. The bytes flow straight into `store.put`, which hashes
 * them and renames the blob into place only if the digest and size match, so nothing
 * unverified ever becomes visible. A dropped connection does not restart the put: the next
 * request asks for `Range: bytes=<received>-` and keeps feeding the same stream (a server
 * that ignores Range answers 200, and the bytes we already have are skipped). A digest
 * mismatch gets one fresh attempt (the corruption may have been on the wire), then fails.
 */
export async function downloadBlob(t: RegistryTransport, repo: string, desc: Descriptor, store: BlobStore, opts: DownloadOptions = {}): Promise<"exists" | "downloaded"> {
  const base = { digest: desc.digest, mediaType: desc.mediaType, total: desc.size };
  if ((await store.size(desc.digest)) === desc.size) {
    opts.onProgress?.({ ...base, done: desc.size, status: "exists" });
    return "exists";
  }
  for (let fresh = 0; ; fresh++) {
    try {
      await downloadOnce(t, repo, desc, store, opts);
      opts.onProgress?.({ ...base, done: desc.size, status: "done" });
      return "downloaded";
    } catch (e) {
      const mismatch = e instanceof StrataError && (e.code === RegistryErrorCode.DigestMismatch || e.code === RegistryErrorCode.SizeMismatch);
      if (!mismatch || fresh >= 1 || opts.signal?.aborted) throw e;
      opts.onProgress?.({ ...base, done: 0, status: "retrying", reason: e.message });
    }
  }
}

async function downloadOnce(t: RegistryTransport, repo: string, desc: Descriptor, store: BlobStore, opts: DownloadOptions): Promise<void> {
  const base = { digest: desc.digest, mediaType: desc.mediaType, total: desc.size };
  const progress = throttledProgress(opts.onProgress, base, "downloading");
  const sink = new PassThrough({ highWaterMark: 1 << 20 });
  // The store may not be reading yet when a failure destroys the sink: its error reaches us
  // through `put` (or not at all), never as an unhandled 'error' event.
  sink.on("error", () => {});
  const put = store.put(sink, { digest: desc.digest, size: desc.size });
  // If the store fails first (disk full, mismatch), stop feeding it.
  let putError: unknown;
  const putDone = put.then(
    () => undefined,
    (e: unknown) => {
      putError = e;
    },
  );
  let received = 0;
  const retries = opts.retry?.retries ?? 4;
  const baseDelay = opts.retry?.baseDelayMs ?? 200;
  const maxDelay = opts.retry?.maxDelayMs ?? 5000;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await feed(t, repo, desc, sink, received, opts.signal, (n) => {
          received = n;
          progress(n);
        }, () => putError);
        break;
      } catch (e) {
        if (opts.signal?.aborted) throw abortError(opts.signal);
        if (putError !== undefined) throw putError;
        const transient = e instanceof Interrupted || isTransientNetworkError(e);
        if (!transient || attempt >= retries) {
          if (e instanceof Interrupted || isTransientNetworkError(e)) {
            throw registryError(RegistryErrorCode.Unreachable, `downloading ${desc.digest} from ${t.registry}/${repo}: ${(e as Error).message} (after ${attempt + 1} attempts, ${received} of ${desc.size} bytes)`, {
              cause: e,
            });
          }
          throw e;
        }
        const asked = e instanceof Interrupted ? e.retryAfterMs : undefined;
        const delay = asked ?? Math.round(Math.random() * Math.min(maxDelay, baseDelay * 2 ** attempt));
        opts.onProgress?.({ ...base, done: received, status: "retrying", reason: (e as Error).message });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    sink.end();
    await put;
  } catch (e) {
    sink.destroy(e instanceof Error ? e : new Error(String(e)));
    await putDone;
    throw translateStoreError(e, desc, t, repo);
  }
}

function translateStoreError(e: unknown, desc: Descriptor, t: RegistryTransport, repo: string): unknown {
  if (e instanceof StrataError && (e.code === "STRATA_DIGEST_MISMATCH" || e.code === "STRATA_SIZE_MISMATCH")) {
    return registryError(
      e.code === "STRATA_DIGEST_MISMATCH" ? RegistryErrorCode.DigestMismatch : RegistryErrorCode.SizeMismatch,
      `blob ${desc.digest} from ${t.registry}/${repo} failed verification: ${e.message}`,
      { cause: e, hint: "the registry (or something between us and it) served corrupt content; nothing was stored" },
    );
  }
  return e;
}

/** One GET (ranged when `from` > 0) whose body is appended to `sink`. Resolves when the blob is complete. */
async function feed(
  t: RegistryTransport,
  repo: string,
  desc: Descriptor,
  sink: PassThrough,
  from: number,
  signal: AbortSignal | undefined,
  onBytes: (received: number) => void,
  storeFailed: () => unknown,
): Promise<void> {
  const res: HttpResponse = await t.request({
    method: "GET",
    path: `/v2/${repo}/blobs/${desc.digest}`,
    scopes: [repositoryScope(repo, ["pull"])],
    headers: from > 0 ? { range: `bytes=${from}-` } : {},
    deadlineMs: transferDeadlineMs(desc.size - from),
    ...(signal ? { signal } : {}),
  });
  if (isRetryableStatus(res.status)) {
    drain(res);
    throw new Interrupted(`registry answered ${res.status}`, responseRetryAfterMs(res));
  }
  let skip = 0;
  if (res.status === 206) {
    const m = /^bytes (\d+)-/.exec(header(res, "content-range") ?? "");
    const start = m ? Number(m[1]) : Number.NaN;
    if (!(start <= from)) {
      drain(res);
      throw registryError(RegistryErrorCode.Http, `blob ${desc.digest}: asked for bytes ${from}- but got range ${header(res, "content-range") ?? "(none)"}`);
    }
    skip = from - start;
  } else if (res.status === 200) {
    skip = from; // Range ignored: the body starts at 0 again.
  } else if (res.status === 416 && from === desc.size) {
    drain(res);
    return;
  } else {
    throw await responseError(res, `GET blob ${desc.digest} from ${t.registry}/${repo}`);
  }
  // A body whose announced length cannot end where the descriptor says is the wrong size:
  // no retry can mend it (unlike a connection that drops half-way).
  const length = header(res, "content-length");
  if (length !== undefined && /^\d+$/.test(length)) {
    const end = (res.status === 206 ? from - skip : 0) + Number(length);
    if (end !== desc.size) {
      res.body.destroy();
      throw sizeMismatch(t, repo, desc, end);
    }
  }
  let received = from;
  for await (const raw of res.body as AsyncIterable<Buffer>) {
    let chunk = raw;
    if (skip > 0) {
      if (chunk.length <= skip) {
        skip -= chunk.length;
        continue;
      }
      chunk = chunk.subarray(skip);
      skip = 0;
    }
    if (received + chunk.length > desc.size) {
      res.body.destroy();
      throw registryError(RegistryErrorCode.SizeMismatch, `blob ${desc.digest} from ${t.registry}/${repo} is longer than the ${desc.size} bytes its descriptor says`);
    }
    received += chunk.length;
    if (!sink.write(chunk)) {
      await once(sink, "drain");
    }
    if (storeFailed() !== undefined) {
      res.body.destroy();
      throw storeFailed();
    }
    onBytes(received);
  }
  // A body that ended cleanly (every announced byte, or a chunked body's last chunk) is the
  // whole blob the registry has: shorter than its descriptor is a size mismatch.
  if (received < desc.size && res.body.complete) throw sizeMismatch(t, repo, desc, received);
  if (received < desc.size) throw new Interrupted(`connection closed after ${received} of ${desc.size} bytes`);
}

function sizeMismatch(t: RegistryTransport, repo: string, desc: Descriptor, size: number): StrataError {
  return registryError(RegistryErrorCode.SizeMismatch, `blob ${desc.digest} from ${t.registry}/${repo} is ${size} bytes, not the ${desc.size} bytes its descriptor says`, {
    hint: "the registry serves a different blob than the manifest describes; nothing was stored",
  });
}

