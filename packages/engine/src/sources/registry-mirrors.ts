import { StrataError } from "@strata/graph";
import type { BlobStore } from "@strata/oci";
import {
  DEFAULT_DOMAIN,
  formatReference,
  normalizeRegistry,
  RegistryErrorCode,
  type PullOptions,
  type PullResult,
  type Reference,
  type Registry,
  type ResolveOptions,
  type ResolveResult,
} from "@strata/registry";

/** Origin registry → mirrors to try first, in order. */
export type MirrorMap = ReadonlyMap<string, readonly string[]>;

/**
 * `--registry-mirror HOST` mirrors Docker Hub (as dockerd's `registry-mirrors` does);
 * `--registry-mirror ORIGIN=HOST` mirrors any other registry (as containerd's hosts.toml can).
 */
export function parseMirrors(list: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const item of list) {
    const eq = item.indexOf("=");
    const origin = eq > 0 ? normalizeRegistry(item.slice(0, eq)) : DEFAULT_DOMAIN;
    const mirror = normalizeRegistry(eq > 0 ? item.slice(eq + 1) : item);
    if (!mirror || mirror === origin) {
      throw new StrataError("STRATA_USAGE", `--registry-mirror ${item}: not a mirror host`, { hint: "e.g. --registry-mirror mirror.example.com:5000 (Docker Hub) or --registry-mirror ghcr.io=mirror.example.com" });
    }
    out.set(origin, [...(out.get(origin) ?? []), mirror]);
  }
  return out;
}

/** Errors after which the next endpoint may still succeed (anything but an abort). */
function fallsThrough(e: unknown): boolean {
  return e instanceof StrataError && e.code !== RegistryErrorCode.Aborted && e.code !== "STRATA_BUILD_ABORTED";
}

/**
 * A registry client that reads through mirrors: each mirror of the reference's registry is
 * asked first (same repository path, same tag or digest), the origin last. Content from a
 * mirror is as trustworthy as the origin's only when pinned by digest, which the pull verifies.
 */
export class MirroredRegistry {
  #client: Promise<Registry> | undefined;

  /**
   * `registry` may be a factory: the HTTP client then loads only when something is really
   * asked of a registry (a locked, cached build never does).
   */
  constructor(
    private readonly registry: Registry | (() => Promise<Registry>),
    private readonly mirrors: MirrorMap = new Map(),
    private readonly onInfo?: (message: string) => void,
  ) {}

  client(): Promise<Registry> {
    this.#client ??= typeof this.registry === "function" ? this.registry() : Promise.resolve(this.registry);
    return this.#client;
  }

  /** The references to try, mirrors first. */
  endpoints(ref: Reference): Reference[] {
    const hosts = this.mirrors.get(ref.domain) ?? [];
    return [...hosts.map((domain) => ({ ...ref, domain })), ref];
  }

  resolve(ref: Reference, opts: ResolveOptions = {}): Promise<ResolveResult & { readonly endpoint: Reference }> {
    return this.#each(ref, "resolve", async (r) => ({ ...(await (await this.client()).resolve(r, opts)), endpoint: r }));
  }

  pull(ref: Reference, store: BlobStore, opts: PullOptions = {}): Promise<PullResult & { readonly endpoint: Reference }> {
    return this.#each(ref, "pull", async (r) => ({ ...(await (await this.client()).pull(r, store, opts)), endpoint: r }));
  }

  async #each<T>(ref: Reference, what: string, fn: (r: Reference) => Promise<T>): Promise<T> {
    const list = this.endpoints(ref);
    const failures: string[] = [];
    for (let i = 0; i < list.length; i++) {
      const r = list[i]!;
      try {
        return await fn(r);
      } catch (e) {
        if (i === list.length - 1 || !fallsThrough(e)) {
          if (failures.length && e instanceof StrataError) {
            throw new StrataError(e.code, `${e.message} (mirrors failed too: ${failures.join("; ")})`, { ...(e.hint ? { hint: e.hint } : {}), cause: e });
          }
          throw e;
        }
        failures.push(`${r.domain}: ${(e as Error).message}`);
        this.onInfo?.(`mirror ${r.domain} could not ${what} ${formatReference(ref)}; trying ${list[i + 1]!.domain}`);
      }
    }
    throw new StrataError("STRATA_INTERNAL", "no endpoint to try");
  }
}
