import { type Readable, Transform } from "node:stream";
import type { Descriptor } from "@strata/oci";
import { registryError, RegistryErrorCode } from "./errors.ts";
import { drain, header, transferDeadlineMs, type HttpResponse } from "./http.ts";
import { throttledProgress, type ProgressCallback } from "./progress.ts";
import { isRetryableStatus, responseRetryAfterMs, RetryableError, withRetry, type RetryOptions } from "./retry.ts";
import { repositoryScope, responseError, type RegistryTransport } from "./transport.ts";

/** Where `push` reads blobs from: any BlobStore fits. */
export interface BlobSource {
  open(digest: Descriptor["digest"]): Promise<Readable>;
}

export interface UploadOptions {
  /** Repositories in the same registry that already hold the blob (tried with a mount first). */
  readonly mountFrom?: readonly string[];
  /** Blobs up to this size go up in one PUT; larger ones in PATCH chunks. Default 32 MiB. */
  readonly monolithicMax?: number;
  /** PATCH chunk size. Default 16 MiB. */
  readonly chunkSize?: number;
  readonly onProgress?: ProgressCallback;
  readonly signal?: AbortSignal;
  readonly retry?: RetryOptions;
}

export type UploadOutcome = "exists" | "mounted" | "uploaded";

const DEFAULT_MONOLITHIC_MAX = 32 << 20;
const DEFAULT_CHUNK = 16 << 20;

/** HEAD the blob: present (at the right size) means nothing to upload. */
export async function blobExists(t: RegistryTransport, repo: string, desc: Descriptor, signal?: AbortSignal): Promise<boolean> {
  const what = `HEAD blob ${desc.digest} in ${t.registry}/${repo}`;
  const res = await t.requestRetrying({ method: "HEAD", path: `/v2/${repo}/blobs/${desc.digest}`, scopes: [repositoryScope(repo, ["pull", "push"])], ...(signal ? { signal } : {}) }, what);
  drain(res);
  if (res.status === 200) {
    const len = Number(header(res, "content-length"));
    return !Number.isFinite(len) || len === desc.size;
  }
  if (res.status === 404) return false;
  throw await responseError(res, what);
}

function uploadUrl(res: HttpResponse, what: string): URL {
  const loc = header(res, "location");
  if (!loc) throw registryError(RegistryErrorCode.Http, `${what}: ${res.status} without a Location header`);
  return new URL(loc, res.url);
}

function withDigestParam(u: URL, digest: string): URL {
  const next = new URL(u);
  next.searchParams.set("digest", digest);
  return next;
}

/**
 * Uploads one blob unless the registry has it: HEAD, then a cross-repository mount when the
 * caller knows where the blob lives, then a monolithic PUT (small blobs) or PATCH chunks
 * following each `Location` (large ones). The whole sequence is retried from a fresh session
 * on connection failures and 5xx, re-reading the blob from its source.
 */
export async function uploadBlob(t: RegistryTransport, repo: string, desc: Descriptor, source: BlobSource, opts: UploadOptions = {}): Promise<UploadOutcome> {
  const base = { digest: desc.digest, mediaType: desc.mediaType, total: desc.size };
  const sig = opts.signal ? { signal: opts.signal } : {};
  if (await blobExists(t, repo, desc, opts.signal)) {
    opts.onProgress?.({ ...base, done: desc.size, status: "exists" });
    return "exists";
  }
  const scopes = [repositoryScope(repo, ["pull", "push"]), ...(opts.mountFrom ?? []).filter((r) => r !== repo).map((r) => repositoryScope(r, ["pull"]))];
  const outcome = await withRetry(
    `upload ${desc.digest} to ${t.registry}/${repo}`,
    async (): Promise<UploadOutcome> => {
      let location: URL | undefined;
      for (const from of opts.mountFrom ?? []) {
        if (from === repo) continue;
        const what = `mount ${desc.digest} from ${from} into ${repo}`;
        const res = await t.request({ method: "POST", path: `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(desc.digest)}&from=${encodeURIComponent(from)}`, scopes, ...sig });
        if (res.status === 201) {
          drain(res);
          return "mounted";
        }
        if (res.status === 202) {
          // The registry could not mount (e.g. no access to `from`) but opened an upload session.
          location = uploadUrl(res, what);
          drain(res);
          break;
        }
        await failStatus(res, what);
      }
      if (!location) {
        const what = `start upload of ${desc.digest} to ${repo}`;
        const res = await t.request({ method: "POST", path: `/v2/${repo}/blobs/uploads/`, scopes, ...sig });
        if (res.status !== 202) await failStatus(res, what);
        location = uploadUrl(res, what);
        drain(res);
      }
      const progress = throttledProgress(opts.onProgress, base, "uploading");
      if (desc.size <= (opts.monolithicMax ?? DEFAULT_MONOLITHIC_MAX)) {
        await putMonolithic(t, location, desc, source, scopes, progress, opts.signal);
      } else {
        await putChunked(t, location, desc, source, scopes, opts.chunkSize ?? DEFAULT_CHUNK, progress, opts.signal);
      }
      return "uploaded";
    },
    { ...opts.retry, ...sig, onRetry: (_n, e) => opts.onProgress?.({ ...base, done: 0, status: "retrying", reason: (e as Error).message }) },
  );
  opts.onProgress?.({ ...base, done: desc.size, status: outcome === "mounted" ? "mounted" : "done" });
  return outcome;
}

async function failStatus(res: HttpResponse, what: string): Promise<never> {
  const err = await responseError(res, what);
  if (isRetryableStatus(res.status)) throw new RetryableError(`${what}: ${res.status}`, err, responseRetryAfterMs(res));
  throw err;
}

function counting(onBytes: (n: number) => void): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      onBytes(n);
      cb(null, chunk);
    },
  });
}

async function putMonolithic(
  t: RegistryTransport,
  location: URL,
  desc: Descriptor,
  source: BlobSource,
  scopes: readonly string[],
  progress: (n: number) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  const what = `PUT blob ${desc.digest}`;
  const res = await t.request({
    method: "PUT",
    path: withDigestParam(location, desc.digest),
    scopes,
    headers: { "content-type": "application/octet-stream", "content-length": String(desc.size) },
    body: async () => {
      const src = await source.open(desc.digest);
      const counted = counting(progress);
      src.on("error", (e) => counted.destroy(e));
      counted.on("close", () => src.destroy());
      return src.pipe(counted);
    },
    deadlineMs: transferDeadlineMs(desc.size),
    ...(signal ? { signal } : {}),
  });
  if (res.status !== 201) await failStatus(res, what);
  checkCommitted(res, desc, what);
}

/** Yields the source in `size`-byte buffers (the last one shorter). */
async function* chunksOf(stream: Readable, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let have = 0;
  for await (const c of stream as AsyncIterable<Buffer>) {
    let chunk = c;
    while (have + chunk.length >= size) {
      const take = size - have;
      parts.push(chunk.subarray(0, take));
      yield Buffer.concat(parts);
      parts = [];
      have = 0;
      chunk = chunk.subarray(take);
    }
    if (chunk.length > 0) {
      parts.push(chunk);
      have += chunk.length;
    }
  }
  if (have > 0) yield Buffer.concat(parts);
}

async function putChunked(
  t: RegistryTransport,
  start: URL,
  desc: Descriptor,
  source: BlobSource,
  scopes: readonly string[],
  chunkSize: number,
  progress: (n: number) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  let location = start;
  let offset = 0;
  const sig = signal ? { signal } : {};
  for await (const chunk of chunksOf(await source.open(desc.digest), chunkSize)) {
    const what = `PATCH blob ${desc.digest} bytes ${offset}-${offset + chunk.length - 1}`;
    const res = await t.request({
      method: "PATCH",
      path: location,
      scopes,
      headers: { "content-type": "application/octet-stream", "content-range": `${offset}-${offset + chunk.length - 1}` },
      body: () => chunk,
      deadlineMs: transferDeadlineMs(chunk.length),
      ...sig,
    });
    if (res.status !== 202) await failStatus(res, what);
    location = uploadUrl(res, what);
    drain(res);
    offset += chunk.length;
    progress(offset);
  }
  if (offset !== desc.size) {
    throw registryError(RegistryErrorCode.PushSourceInvalid, `blob ${desc.digest} has ${offset} bytes in its source, but its descriptor says ${desc.size}`);
  }
  const what = `commit blob ${desc.digest}`;
  const res = await t.request({ method: "PUT", path: withDigestParam(location, desc.digest), scopes, ...sig });
  if (res.status !== 201) await failStatus(res, what);
  checkCommitted(res, desc, what);
}

function checkCommitted(res: HttpResponse, desc: Descriptor, what: string): void {
  drain(res);
  const d = header(res, "docker-content-digest");
  if (d && d !== desc.digest) throw registryError(RegistryErrorCode.DigestMismatch, `${what}: registry stored ${d}`);
}

