import type { Digest } from "@strata/graph";
import { registryError, RegistryErrorCode } from "./errors.ts";

/**
 * Image references, parsed and normalised the way Docker's `distribution/reference`
 * (`ParseNormalizedNamed` + `TagNameOnly`) does, so `strata pull busybox` and
 * `docker pull busybox` name the same thing.
 */
export interface Reference {
  /** Registry host with optional port: `docker.io`, `localhost:5000`, `[::1]:5000`. */
  readonly domain: string;
  /** Repository path inside the registry: `library/busybox`, `a/b`. */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

export const DEFAULT_DOMAIN = "docker.io";
/** Docker Hub's historical name; references using it mean `docker.io`. */
export const LEGACY_DEFAULT_DOMAIN = "index.docker.io";
/** Where Docker Hub's distribution API actually answers. */
export const DEFAULT_API_HOST = "registry-1.docker.io";
const OFFICIAL_REPO_PREFIX = "library/";
const NAME_TOTAL_LENGTH_MAX = 255;

// The grammar of distribution/reference (regexp.go), composed the same way.
const alphanumeric = "[a-z0-9]+";
const separator = "(?:[._]|__|[-]+)";
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const ipv6 = "\\[(?:[a-fA-F0-9:]+)\\]";
const domainWithPort = `(?:${domainName}|${ipv6})(?::[0-9]+)?`;
const tagPattern = "[\\w][\\w.-]{0,127}";
const digestPattern = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";

const DOMAIN_RE = new RegExp(`^${domainWithPort}$`);
const REMAINDER_RE = new RegExp(`^(${pathComponent}(?:/${pathComponent})*)(?::(${tagPattern}))?(?:@(${digestPattern}))?$`);
const TAG_RE = new RegExp(`^${tagPattern}$`);
const HEX64_RE = /^[a-f0-9]{64}$/;
const SHA256_RE = /^sha256:[a-f0-9]{64}$/;

function invalid(input: string, why: string): never {
  throw registryError(RegistryErrorCode.RefInvalid, `invalid reference format: ${JSON.stringify(input)}: ${why}`, {
    hint: "a reference looks like [host[:port]/]path[:tag][@sha256:<64 hex>], e.g. busybox:1.36 or localhost:5000/team/app:dev",
  });
}

/**
 * `splitDockerDomain`: the first path component is a registry host when it contains `.` or
 * `:`, is `localhost`, or has uppercase letters (which a repository path may not); otherwise
 * the name lives on Docker Hub, and single-component Hub names are official images.
 */
function splitDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf("/");
  let domain: string;
  let remainder: string;
  const first = slash === -1 ? "" : name.slice(0, slash);
  if (slash === -1 || (!/[.:]/.test(first) && first !== "localhost" && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(slash + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes("/")) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

export interface ParseReferenceOptions {
  /** Tag given to a reference with neither tag nor digest; `false` keeps it bare. Default `latest`. */
  readonly defaultTag?: string | false;
}

/** Parses and normalises a reference; throws STRATA_REF_INVALID with Docker's reasons. */
export function parseReference(input: string, opts: ParseReferenceOptions = {}): Reference {
  if (input === "") invalid(input, "repository name must have at least one component");
  if (HEX64_RE.test(input)) invalid(input, "cannot specify 64-byte hexadecimal strings as a repository name");
  const { domain, remainder } = splitDomain(input);
  const colon = remainder.indexOf(":");
  const remoteName = colon === -1 ? remainder : remainder.slice(0, colon);
  if (remoteName.toLowerCase() !== remoteName) invalid(input, `repository name (${remoteName}) must be lowercase`);
  if (!DOMAIN_RE.test(domain)) invalid(input, `bad registry host ${JSON.stringify(domain)}`);
  const m = REMAINDER_RE.exec(remainder);
  if (!m) invalid(input, "not a valid [path][:tag][@digest]");
  const path = m[1]!;
  if (domain.length + 1 + path.length > NAME_TOTAL_LENGTH_MAX) invalid(input, `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  const tag = m[2];
  const digest = m[3];
  if (digest !== undefined && !SHA256_RE.test(digest)) {
    invalid(input, digest.startsWith("sha256:") ? "a sha256 digest has 64 lowercase hex digits" : `unsupported digest algorithm in ${digest} (only sha256)`);
  }
  const defaultTag = opts.defaultTag ?? "latest";
  return Object.freeze({
    domain,
    path,
    ...(tag !== undefined ? { tag } : digest === undefined && defaultTag !== false ? { tag: defaultTag } : {}),
    ...(digest !== undefined ? { digest: digest as Digest } : {}),
  });
}

/** `docker.io/library/busybox` — the repository's full name, no tag or digest. */
export function referenceName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The normalised string: `docker.io/library/busybox:latest`, `host:5000/a@sha256:…`. */
export function formatReference(ref: Reference): string {
  return referenceName(ref) + (ref.tag !== undefined ? `:${ref.tag}` : "") + (ref.digest !== undefined ? `@${ref.digest}` : "");
}

/** The short form Docker prints: `busybox:latest`, `user/img:1`, `localhost:5000/x:y`. */
export function familiarString(ref: Reference): string {
  let name = referenceName(ref);
  if (ref.domain === DEFAULT_DOMAIN) {
    name = ref.path.startsWith(OFFICIAL_REPO_PREFIX) && ref.path.indexOf("/", OFFICIAL_REPO_PREFIX.length) === -1 ? ref.path.slice(OFFICIAL_REPO_PREFIX.length) : ref.path;
  }
  return name + (ref.tag !== undefined ? `:${ref.tag}` : "") + (ref.digest !== undefined ? `@${ref.digest}` : "");
}

/** What goes after `/manifests/`: the digest when known (immutable), else the tag. */
export function manifestReference(ref: Reference): string {
  const r = ref.digest ?? ref.tag;
  if (r === undefined) throw registryError(RegistryErrorCode.RefInvalid, `${formatReference(ref)} has neither a tag nor a digest`);
  return r;
}

export function withTag(ref: Reference, tag: string): Reference {
  if (!TAG_RE.test(tag)) invalid(tag, "invalid tag");
  return Object.freeze({ domain: ref.domain, path: ref.path, tag });
}

export function withDigest(ref: Reference, digest: Digest): Reference {
  return Object.freeze({ domain: ref.domain, path: ref.path, ...(ref.tag !== undefined ? { tag: ref.tag } : {}), digest });
}

/** The host that serves the distribution API for a registry domain (Docker Hub's differs). */
export function apiHost(domain: string): string {
  return domain === DEFAULT_DOMAIN ? DEFAULT_API_HOST : domain;
}

/** Normalises a registry name given by a user (`index.docker.io`, `https://host:5000/v2/`). */
export function normalizeRegistry(input: string): string {
  let host = input.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  const slash = host.indexOf("/");
  if (slash !== -1) host = host.slice(0, slash);
  if (host === LEGACY_DEFAULT_DOMAIN || host === DEFAULT_API_HOST || host === "") return DEFAULT_DOMAIN;
  return host;
}
