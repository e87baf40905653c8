import { StrataError } from "@strata/graph";

/**
 * Stable error codes of the registry client. Callers (the CLI, the build engine) switch on
 * these, so they never change meaning; messages may.
 */
export const RegistryErrorCode = Object.freeze({
  /** A reference string that Docker would reject too. */
  RefInvalid: "STRATA_REF_INVALID",
  /** 401 after presenting whatever credentials we had (or had none). */
  Unauthorized: "STRATA_REGISTRY_UNAUTHORIZED",
  /** 403: authenticated, but not allowed. */
  Denied: "STRATA_REGISTRY_DENIED",
  /** Repository, manifest or blob unknown. */
  NotFound: "STRATA_REGISTRY_NOT_FOUND",
  /** Any other unexpected HTTP status. */
  Http: "STRATA_REGISTRY_HTTP",
  /** Connection-level failure that survived every retry. */
  Unreachable: "STRATA_REGISTRY_UNREACHABLE",
  /** Bytes from the registry do not hash to the digest that names them. */
  DigestMismatch: "STRATA_REGISTRY_DIGEST_MISMATCH",
  /** A blob longer or shorter than its descriptor says. */
  SizeMismatch: "STRATA_REGISTRY_SIZE_MISMATCH",
  /** An image index without a manifest for the requested platform. */
  PlatformNotFound: "STRATA_REGISTRY_PLATFORM_NOT_FOUND",
  /** A manifest we cannot use: bad JSON, unknown/legacy media type, too large. */
  ManifestInvalid: "STRATA_REGISTRY_MANIFEST_INVALID",
  /** The token endpoint refused the credentials or answered nonsense. */
  TokenFailed: "STRATA_REGISTRY_TOKEN_FAILED",
  /** A plain-HTTP URL where only HTTPS is allowed. */
  Insecure: "STRATA_REGISTRY_INSECURE",
  /** `docker-credential-<name>` failed or is missing. */
  CredentialHelper: "STRATA_CREDENTIAL_HELPER",
  /** `config.json` exists but is not valid JSON or has the wrong shape. */
  DockerConfigInvalid: "STRATA_DOCKER_CONFIG_INVALID",
  /** `login` could not verify the credentials. */
  LoginFailed: "STRATA_REGISTRY_LOGIN_FAILED",
  /** The image source handed to `push` is inconsistent (missing blob, bad manifest). */
  PushSourceInvalid: "STRATA_PUSH_SOURCE_INVALID",
  /** A request did not complete within its total deadline (STRATA_REGISTRY_DEADLINE). */
  Timeout: "STRATA_REGISTRY_TIMEOUT",
  /** A redirect to something other than an http(s) URL (`file:`, `data:`, …). */
  BadRedirect: "STRATA_REGISTRY_BAD_REDIRECT",
  /** A manifest lists a layer whose media type no known layer format has. */
  UnknownMediaType: "STRATA_REGISTRY_UNKNOWN_MEDIA_TYPE",
  /** The operation was aborted through its AbortSignal. */
  Aborted: "STRATA_ABORTED",
} as const);

export type RegistryErrorCode = (typeof RegistryErrorCode)[keyof typeof RegistryErrorCode];

export function registryError(
  code: RegistryErrorCode,
  message: string,
  opts: { hint?: string; cause?: unknown } = {},
): StrataError {
  return new StrataError(code, message, opts);
}
