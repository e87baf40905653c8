import type { BlobStore } from "@strata/oci";
import { registryError, RegistryErrorCode } from "./errors.ts";
import { login, logout, type LoginResult } from "./login.ts";
import { getManifest, pullImage, resolveManifest, type PullOptions, type PullResult, type ResolveOptions, type ResolveResult } from "./pull.ts";
import { pushToRepository, type PushOptions, type PushResult, type PushSource } from "./push.ts";
import type { RawManifest } from "./manifest.ts";
import { parseReference, referenceName, type Reference } from "./reference.ts";
import { RegistryTransport, type TransportOptions } from "./transport.ts";

export type RegistryOptions = TransportOptions;

export type RefLike = string | Reference;

function toList(x: readonly string[] | string | undefined): readonly string[] {
  return x === undefined ? [] : typeof x === "string" ? [x] : x;
}

function toRef(r: RefLike): Reference {
  return typeof r === "string" ? parseReference(r) : r;
}

/**
 * The registry API the build engine and the CLI use. One instance keeps one session per
 * registry host (ping result, credentials, token cache, keep-alive sockets), so create one
 * per command and reuse it.
 */
export class Registry {
  readonly #opts: RegistryOptions;
  readonly #transports = new Map<string, RegistryTransport>();

  constructor(opts: RegistryOptions = {}) {
    this.#opts = opts;
  }

  /** The session for a registry host (created on first use). */
  transport(domain: string): RegistryTransport {
    let t = this.#transports.get(domain);
    if (!t) {
      t = new RegistryTransport(domain, this.#opts);
      this.#transports.set(domain, t);
    }
    return t;
  }

  /** The platform manifest digest a reference names now (HEAD, plus a GET for an index). */
  resolve(ref: RefLike, opts: ResolveOptions = {}): Promise<ResolveResult> {
    const r = toRef(ref);
    return resolveManifest(this.transport(r.domain), r, opts);
  }

  /** The top-level manifest or index, as raw bytes plus its parse. */
  manifest(ref: RefLike, opts: { signal?: AbortSignal } = {}): Promise<RawManifest> {
    const r = toRef(ref);
    return getManifest(this.transport(r.domain), r, opts.signal);
  }

  pull(ref: RefLike, store: BlobStore, opts: PullOptions = {}): Promise<PullResult> {
    const r = toRef(ref);
    return pullImage(this.transport(r.domain), r, store, { ...(this.#opts.retry ? { retry: this.#opts.retry } : {}), ...opts });
  }

  /**
   * Pushes an image (or index) under one or more references. References in different
   * repositories (or registries) each get the blobs and the manifest.
   */
  async push(source: PushSource, refs: RefLike | readonly RefLike[], opts: PushOptions = {}): Promise<PushResult> {
    const list = (Array.isArray(refs) ? refs : [refs]).map((r) => toRef(r as RefLike));
    if (list.length === 0) throw registryError(RegistryErrorCode.RefInvalid, "push needs at least one reference");
    const groups = new Map<string, Reference[]>();
    for (const r of list) {
      const k = referenceName(r);
      groups.set(k, [...(groups.get(k) ?? []), r]);
    }
    let result: PushResult | undefined;
    const done = new Map<string, string[]>(); // registry → repositories already holding every blob
    for (const group of groups.values()) {
      const first = group[0]!;
      const already = done.get(first.domain) ?? [];
      // Later repositories in the same registry mount the blobs from the first instead of re-uploading.
      const mountFrom = already.length === 0 ? opts.mountFrom : (d: Parameters<NonNullable<PushOptions["mountFrom"]>>[0]) => [...toList(opts.mountFrom?.(d)), ...already];
      const one = await pushToRepository(this.transport(first.domain), first.path, source, group, {
        ...(this.#opts.retry ? { retry: this.#opts.retry } : {}),
        ...opts,
        ...(mountFrom ? { mountFrom } : {}),
      });
      done.set(first.domain, [...already, first.path]);
      result = result ? { ...one, refs: [...result.refs, ...one.refs], blobs: [...result.blobs, ...one.blobs] } : one;
    }
    return result!;
  }

  login(registry: string, username: string, password: string): Promise<LoginResult> {
    const { credentials: _c, ...rest } = this.#opts;
    return login(registry, username, password, rest);
  }

  logout(registry: string): Promise<boolean> {
    return logout(registry, this.#opts.dockerConfig ? { dockerConfig: this.#opts.dockerConfig } : {});
  }
}

