import http, { type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import https from "node:https";
import { Readable } from "node:stream";
import { limitFromEnv, StrataError } from "@strata/graph";
import { registryError, RegistryErrorCode } from "./errors.ts";

/**
 * A thin layer over node:http(s): keep-alive agents, streamed request and response bodies,
 * an idle timeout, and redirects for GET/HEAD (blobs often answer 307 to object storage).
 * node:http rather than fetch: it streams request bodies without `duplex` tricks, exposes
 * raw headers, and measured faster on large blobs here (see the package report).
 */
const agents = {
  "http:": new http.Agent({ keepAlive: true, maxSockets: 32 }),
  "https:": new https.Agent({ keepAlive: true, maxSockets: 32 }),
};

export type Body = Uint8Array | Readable;

export interface HttpRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  /** A factory, so the request can be replayed after a redirect or an auth retry. */
  readonly body?: () => Body | Promise<Body>;
  /** Milliseconds without socket activity before the request fails with ETIMEDOUT. */
  readonly timeoutMs?: number;
  /**
   * Milliseconds the whole exchange may take — every redirect hop, and reading the response
   * body to its end — however steadily bytes trickle in. Default: requestDeadlineMs()
   * (STRATA_REGISTRY_DEADLINE). Past it the request fails with STRATA_REGISTRY_TIMEOUT.
   */
  readonly deadlineMs?: number;
  readonly signal?: AbortSignal;
  /** Follow redirects (GET/HEAD only). Default true. */
  readonly followRedirects?: boolean;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The URL that finally answered (after redirects). */
  readonly url: URL;
  readonly body: IncomingMessage;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const MAX_REDIRECTS = 10;

/** The default total deadline of one registry request: 5 minutes. */
export const DEFAULT_DEADLINE_SECONDS = 300;
/** The environment variable that sets it, in seconds. */
export const DEADLINE_ENV = "STRATA_REGISTRY_DEADLINE";
/**
 * The slowest average rate a blob transfer may fall to before its deadline passes: a blob of
 * N bytes gets the request deadline plus N / 64 KiB seconds (a 1 GiB layer: 4.5 h on top), so
 * only a registry that stalls on purpose, or a link slower than a modem, hits it.
 * STRATA_REGISTRY_MIN_RATE (bytes per second, `k`/`m` suffixes) changes it.
 */
export const DEFAULT_MIN_BLOB_BYTES_PER_SECOND = 64 * 1024;
export const MIN_RATE_ENV = "STRATA_REGISTRY_MIN_RATE";

/** The total deadline of one request, ms (STRATA_REGISTRY_DEADLINE seconds, default 300). */
export function requestDeadlineMs(): number {
  return limitFromEnv(DEADLINE_ENV, DEFAULT_DEADLINE_SECONDS, process.env) * 1000;
}

/** The deadline of a request whose body is `size` bytes (a blob): the request deadline plus the time at the minimum rate. */
export function transferDeadlineMs(size: number): number {
  return requestDeadlineMs() + Math.ceil((size / limitFromEnv(MIN_RATE_ENV, DEFAULT_MIN_BLOB_BYTES_PER_SECOND, process.env)) * 1000);
}

function deadlineError(url: URL, ms: number): StrataError {
  return registryError(RegistryErrorCode.Timeout, `${url.host} did not complete the request for ${url.pathname} within ${Math.round(ms / 1000)} s`, {
    hint: `the registry is too slow or stalls on purpose; set ${DEADLINE_ENV}=SECONDS to allow more time (default ${DEFAULT_DEADLINE_SECONDS}; blobs also get their size at ${MIN_RATE_ENV}, default 64k bytes/s)`,
  });
}

/** Network error codes worth retrying: the connection failed, not the request. */
const TRANSIENT_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EAI_AGAIN", "ECONNABORTED", "EHOSTUNREACH", "ENETUNREACH", "ERR_STREAM_PREMATURE_CLOSE"]);

export function isTransientNetworkError(e: unknown): boolean {
  const code = (e as { code?: unknown } | undefined)?.code;
  if (typeof code === "string" && TRANSIENT_CODES.has(code)) return true;
  const msg = e instanceof Error ? e.message : "";
  return msg === "aborted" || msg === "socket hang up";
}

/**
 * A connection failure that no retry can mend (an unknown host, a TLS problem) as a coded
 * error; transient ones stay as they are, for the retry loops to recognise.
 */
function connectionError(e: Error, url: URL): Error {
  if (e instanceof StrataError || isTransientNetworkError(e)) return e;
  const code = (e as { code?: unknown }).code;
  const hint =
    code === "ENOTFOUND"
      ? `no address for ${url.hostname}: check the registry's name (and DNS)`
      : url.protocol === "https:" && (code === "EPROTO" || /SSL|TLS|wrong version/i.test(e.message))
        ? `${url.host} may speak plain HTTP: allow that with --insecure-registry ${url.host}`
        : url.protocol === "https:" && typeof code === "string" && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)
          ? `the TLS certificate of ${url.host} is not trusted here (add its CA to NODE_EXTRA_CA_CERTS)`
          : "check that the registry is running and reachable";
  return registryError(RegistryErrorCode.Unreachable, `cannot reach ${url.host}: ${e.message}`, { cause: e, hint });
}

async function sendOnce(req: HttpRequest, url: URL, deadlineAt: number, deadlineMs: number): Promise<HttpResponse> {
  if (req.signal?.aborted) throw registryError(RegistryErrorCode.Aborted, "aborted", { cause: req.signal.reason });
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw registryError(RegistryErrorCode.BadRedirect, `refusing to fetch ${url.protocol} URL ${JSON.stringify(url.href)} (redirected from the registry)`, { hint: "a registry may only redirect to http(s) URLs" });
  }
  if (Date.now() >= deadlineAt) throw deadlineError(url, deadlineMs);
  const body = await req.body?.();
  return new Promise((resolve, reject) => {
    const mod = url.protocol === "https:" ? https : http;
    const agent = agents[url.protocol as "http:" | "https:"];
    const headers: Record<string, string> = { ...req.headers };
    if (body instanceof Uint8Array) headers["content-length"] = String(body.byteLength);
    else if (body === undefined && (req.method === "PUT" || req.method === "POST" || req.method === "PATCH")) headers["content-length"] ??= "0";
    const r = mod.request(url, { method: req.method, headers, agent });
    let settled = false;
    let response: IncomingMessage | undefined;
    const onAbort = (): void => {
      // A response read to the end has handed its keep-alive socket back to the agent, maybe
      // to another request already: destroying it now would kill that one (or throw an
      // 'error' on a socket nobody listens to).
      if (response?.complete) return;
      r.destroy(registryError(RegistryErrorCode.Aborted, "aborted", { cause: req.signal?.reason }));
    };
    req.signal?.addEventListener("abort", onAbort, { once: true });
    // The total deadline: the idle timeout below never fires while bytes trickle in.
    const deadline = setTimeout(() => {
      if (response?.complete) return;
      const err = deadlineError(url, deadlineMs);
      if (response) response.destroy(err);
      r.destroy(err);
    }, Math.max(0, deadlineAt - Date.now()));
    deadline.unref();
    const cleanup = (): void => {
      clearTimeout(deadline);
      req.signal?.removeEventListener("abort", onAbort);
    };
    r.setTimeout(req.timeoutMs ?? DEFAULT_TIMEOUT_MS, () => {
      const err = Object.assign(new Error(`no data from ${url.host} for ${req.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`), { code: "ETIMEDOUT" });
      r.destroy(err);
    });
    r.on("response", (res) => {
      settled = true;
      response = res;
      res.once("end", cleanup);
      res.once("close", cleanup);
      // A body nobody reads may still be destroyed (abort, timeout): that must not crash the
      // process. Readers see the error through their own listeners or iteration.
      res.on("error", () => {});
      resolve({ status: res.statusCode ?? 0, headers: res.headers, url, body: res });
    });
    r.on("error", (e) => {
      cleanup();
      if (!settled) {
        settled = true;
        reject(connectionError(e, url));
      }
    });
    if (body instanceof Readable) {
      body.on("error", (e) => r.destroy(e));
      // A failed request must not leave the source (often a file) open.
      r.on("close", () => {
        if (!body.readableEnded) body.destroy();
      });
      body.pipe(r);
    } else {
      r.end(body);
    }
  });
}

/** Sends a request, following redirects for GET/HEAD; credentials never cross origins. */
export async function send(req: HttpRequest): Promise<HttpResponse> {
  let url = req.url;
  let headers = { ...req.headers };
  const deadlineMs = req.deadlineMs ?? requestDeadlineMs();
  const deadlineAt = Date.now() + deadlineMs;
  for (let hop = 0; ; hop++) {
    const res = await sendOnce({ ...req, headers }, url, deadlineAt, deadlineMs);
    const follow = (req.followRedirects ?? true) && (req.method === "GET" || req.method === "HEAD");
    if (!follow || ![301, 302, 303, 307, 308].includes(res.status) || !res.headers.location) return res;
    res.body.resume();
    if (hop >= MAX_REDIRECTS) throw registryError(RegistryErrorCode.Http, `too many redirects from ${req.url.href}`);
    const next = new URL(res.headers.location, url);
    if (next.origin !== url.origin) {
      // Object-storage URLs carry their own signature; our registry credentials must not leak there.
      const { authorization: _drop, ...rest } = headers;
      headers = rest;
    }
    url = next;
  }
}

/** Reads a whole response body, refusing more than `limit` bytes (manifests, token JSON). */
export async function readAll(res: HttpResponse, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > limit) {
      res.body.destroy();
      throw registryError(RegistryErrorCode.ManifestInvalid, `response from ${res.url.host} exceeds ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Discards a body we do not need, so the keep-alive socket goes back to the pool. */
export function drain(res: HttpResponse): void {
  res.body.resume();
}

export function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(", ") : v;
}
