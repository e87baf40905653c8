import type { Digest, ImageConfig, ImageConfigFile } from "@strata/graph";

/** One layer of a chain: its uncompressed tar is in the store under its diffID. */
export interface LayerRef {
  readonly diffId: Digest;
  readonly size: number;
}

/** What an image source resolved to: the config its children inherit, and its history. */
export interface BaseImage {
  /** The manifest digest the reference resolved to (absent for scratch). */
  readonly manifestDigest?: Digest;
  readonly configFile: ImageConfigFile;
  readonly config: ImageConfig;
}

/** A filesystem as the stack of layers that make it, bottom first. */
export interface FsState {
  readonly kind: "fs";
  readonly key: Digest;
  readonly layers: readonly LayerRef[];
  /** The image at the bottom of the chain (its config is what templates expand against). */
  readonly base: BaseImage | undefined;
}

