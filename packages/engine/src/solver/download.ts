import { get as httpGet } from "node:http";
import { get as httpsGet } from "node:https";
import type { IncomingMessage } from "node:http";
import { describeOp, opDigest, resolveLocation, StrataError, type Digest, type SourceOp } from "@strata/graph";
import { cacheKey } from "./cache-key.ts";
import type { DownloadResult } from "./results.ts";
import type { SolverContext } from "./solver.ts";

interface UrlRecord {
  readonly digest: Digest;
  readonly name: string;
  readonly etag?: string;
  readonly lastModified?: string;
}

/**
 * ADD <url>: the file goes into the store by its digest. With a checksum the download is
 * content-addressed (a cached build makes no request); without one, the next build asks the
 * server whether it changed (If-None-Match / If-Modified-Since), as BuildKit does.
 */
export async function download(ctx: SolverContext, op: SourceOp, url: string, checksum: string | undefined, filename: string | undefined): Promise<DownloadResult> {
  const loc = resolveLocation(op.meta);
  const name = filename ?? (decodeURIComponent(new URL(url).pathname.split("/").filter(Boolean).pop() ?? "") || "__unnamed__");
  if (checksum && !/^sha256:[0-9a-f]{64}$/.test(checksum)) {
    throw new StrataError("STRATA_BAD_CHECKSUM", `invalid checksum ${JSON.stringify(checksum)}`, { locations: [loc], hint: "write sha256:<64 hex digits>" });
  }
  const urlKey = cacheKey("http-url", { url });
  const known = ctx.store.getCache<UrlRecord>(urlKey);
  if (checksum && (await ctx.store.blobs.has(checksum as Digest))) return done(ctx, checksum as Digest, name);
  const id = opDigest(op);
  const started = ctx.now();
  ctx.opts.progress({ type: "step-start", at: started, id, name: describeOp(op), ...(loc ? { location: loc } : {}) });
  const headers: Record<string, string> = { "user-agent": "strata" };
  const reuse = known && !ctx.opts.noCache && (await ctx.store.blobs.has(known.digest));
  if (reuse && known.etag) headers["if-none-match"] = known.etag;
  if (reuse && known.lastModified) headers["if-modified-since"] = known.lastModified;
  const res = await request(url, headers, ctx.signal).catch((e: Error) => {
    if (e instanceof StrataError) throw e.withLocation(loc);
    throw new StrataError("STRATA_DOWNLOAD_FAILED", `cannot download ${url}: ${e.message}`, { locations: [loc] });
  });
  let digest: Digest;
  if (res.statusCode === 304 && reuse) {
    res.resume();
    digest = known.digest;
  } else if (res.statusCode === 200) {
    const put = await ctx.store.blobs.put(res, checksum ? { digest: checksum as Digest } : {}).catch((e: unknown) => {
      if (e instanceof StrataError && e.code === "STRATA_DIGEST_MISMATCH") {
        throw new StrataError("STRATA_CHECKSUM_MISMATCH", `${url} does not match its checksum: ${e.message}`, { locations: [loc], hint: "the file changed upstream, or the checksum is wrong" });
      }
      throw e;
    });
    digest = put.digest;
    ctx.store.putCache(urlKey, {
      digest,
      name,
      ...(res.headers.etag ? { etag: res.headers.etag } : {}),
      ...(res.headers["last-modified"] ? { lastModified: res.headers["last-modified"] } : {}),
    } satisfies UrlRecord);
  } else {
    res.resume();
    throw new StrataError("STRATA_DOWNLOAD_FAILED", `cannot download ${url}: HTTP ${res.statusCode}`, { locations: [loc] });
  }
  ctx.opts.progress({ type: "step-done", at: ctx.now(), id, name: describeOp(op), cached: false, ms: ctx.now() - started });
  return done(ctx, digest, name);
}

function done(ctx: SolverContext, digest: Digest, name: string): DownloadResult {
  return { kind: "download", key: cacheKey("download", { digest, name }), file: ctx.store.blobs.pathOf(digest), name };
}

function request(url: string, headers: Record<string, string>, signal: AbortSignal, redirects = 5): Promise<IncomingMessage> {
  // Only http(s): a redirect to file:, data: or anything else must never read the host.
  if (!/^https?:/i.test(url)) {
    return Promise.reject(new StrataError("STRATA_DOWNLOAD_BAD_REDIRECT", `refusing to fetch ${JSON.stringify(url)}: only http and https URLs are downloaded`, { hint: "the server redirected ADD to a non-HTTP URL" }));
  }
  return new Promise((resolvePromise, reject) => {
    const get = url.startsWith("https:") ? httpsGet : httpGet;
    const req = get(url, { headers, signal }, (res) => {
      const loc = res.headers.location;
      if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && res.statusCode !== 304 && loc && redirects > 0) {
        res.resume();
        resolvePromise(request(new URL(loc, url).toString(), headers, signal, redirects - 1));
        return;
      }
      resolvePromise(res);
    });
    req.on("error", reject);
  });
}
