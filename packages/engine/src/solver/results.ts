import type { Digest } from "@strata/graph";
import type { ContextSnapshot } from "../context/snapshot.ts";
import type { FsState } from "./types.ts";

/** A local directory (a build context) as a build reads it. */
export interface ContextResult {
  readonly kind: "context";
  readonly name: string;
  readonly dir: string;
  readonly snapshot: ContextSnapshot;
  /** Include or exclude patterns hide some of the directory (a bind mount then needs a filtered copy). */
  readonly filtered: boolean;
}

/** A downloaded file (ADD of a URL): kept in the store by its content digest. */
export interface DownloadResult {
  readonly kind: "download";
  readonly key: Digest;
  readonly file: string;
  readonly name: string;
}

/** A directory tree fetched from elsewhere (a git checkout). */
export interface TreeResult {
  readonly kind: "tree";
  readonly key: Digest;
  readonly dir: string;
}

export type OpResult = FsState | ContextResult | DownloadResult | TreeResult;

/** What a cached op recorded: its layer chain and, for image sources, the base image's config. */
export interface CacheRecord {
  readonly layers: ReadonlyArray<{ readonly diffId: Digest; readonly size: number }>;
  readonly base?: { readonly manifestDigest?: Digest; readonly configDigest: Digest };
  /** Whether the op added a layer on top of its input (false: an empty change). */
  readonly added?: boolean;
}
