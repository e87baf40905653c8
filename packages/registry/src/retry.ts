import { limitFromEnv, StrataError } from "@strata/graph";
import { registryError, RegistryErrorCode } from "./errors.ts";
import { header, isTransientNetworkError, type HttpResponse } from "./http.ts";

/** The longest wait a `Retry-After` header can ask for: 60 s (STRATA_REGISTRY_RETRY_AFTER_MAX seconds). */
export const DEFAULT_RETRY_AFTER_MAX_SECONDS = 60;
export const RETRY_AFTER_MAX_ENV = "STRATA_REGISTRY_RETRY_AFTER_MAX";

/**
 * The wait a `Retry-After` header asks for, ms: delay-seconds (`120`) or an HTTP-date
 * (`Wed, 21 Oct 2026 07:28:00 GMT`, relative to `now`), capped at the configured maximum so a
 * registry cannot park a build for hours; undefined when the header is absent or unreadable.
 */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  let ms: number;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else {
    const at = Date.parse(v);
    if (!Number.isFinite(at) || !/[a-z]/i.test(v)) return undefined;
    ms = Math.max(0, at - now);
  }
  return Math.min(ms, limitFromEnv(RETRY_AFTER_MAX_ENV, DEFAULT_RETRY_AFTER_MAX_SECONDS, process.env) * 1000);
}

/** The wait a response's `Retry-After` asks for (see retryAfterMs). */
export function responseRetryAfterMs(res: HttpResponse): number | undefined {
  return retryAfterMs(header(res, "retry-after"));
}

export interface RetryOptions {
  /** Attempts after the first. Default 4. */
  readonly retries?: number;
  /** First backoff in ms; doubles per attempt. Default 200. */
  readonly baseDelayMs?: number;
  /** Upper bound of one backoff. Default 5000. */
  readonly maxDelayMs?: number;
}

/** An HTTP status the registry may answer differently a moment later. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status !== 501 && status !== 505);
}

/** Thrown inside a retried operation to ask for another attempt (a 5xx, a short body). */
export class RetryableError extends Error {
  constructor(
    message: string,
    readonly final: StrataError,
    /** The server's `Retry-After`, ms: used instead of the backoff when set. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

function isRetryable(e: unknown): boolean {
  return e instanceof RetryableError || (!(e instanceof StrataError) && isTransientNetworkError(e));
}

/**
 * Runs `fn` until it succeeds, fails for good, or runs out of attempts. Backoff is
 * exponential with full jitter (AWS's recommendation), so many clients retrying against one
 * sick registry spread out instead of stampeding together.
 */
export async function withRetry<T>(
  what: string,
  fn: (attempt: number) => Promise<T>,
  opts: RetryOptions & { signal?: AbortSignal; onRetry?: (attempt: number, error: unknown, delayMs: number) => void } = {},
): Promise<T> {
  const retries = opts.retries ?? 4;
  const base = opts.baseDelayMs ?? 200;
  const max = opts.maxDelayMs ?? 5000;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (opts.signal?.aborted) throw abortError(opts.signal);
      if (!isRetryable(e) || attempt >= retries) {
        if (e instanceof RetryableError) throw e.final;
        if (isTransientNetworkError(e)) {
          const err = e as Error;
          throw registryError(RegistryErrorCode.Unreachable, `${what}: ${err.message} (after ${attempt + 1} attempts)`, {
            cause: e,
            hint: "check that the registry is running and reachable; the connection kept failing",
          });
        }
        throw e;
      }
      const asked = e instanceof RetryableError ? e.retryAfterMs : undefined;
      const delay = asked ?? Math.round(Math.random() * Math.min(max, base * 2 ** attempt));
      opts.onRetry?.(attempt + 1, e, delay);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

export function abortError(signal: AbortSignal): StrataError {
  return registryError(RegistryErrorCode.Aborted, "the operation was aborted", { cause: signal.reason });
}
