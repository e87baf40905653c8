import { limitFromEnv, StrataError } from "@strata/graph";

/**
 * Bounds on what one layer may expand to, so a decompression bomb (a small gzip layer that
 * inflates to terabytes, or a tar of millions of empty entries) fails with a coded error
 * instead of filling the disk or exhausting inodes. The defaults sit far above real images
 * (the largest public layers, CUDA and ML toolkits, are around 10 GiB and a few hundred
 * thousand files); each is raised with its environment variable.
 */
export const DEFAULT_MAX_LAYER_BYTES = 32 * 1024 ** 3;
export const MAX_LAYER_BYTES_ENV = "STRATA_MAX_LAYER_BYTES";
export const DEFAULT_MAX_LAYER_ENTRIES = 2_000_000;
export const MAX_LAYER_ENTRIES_ENV = "STRATA_MAX_LAYER_ENTRIES";

export interface LayerLimits {
  /** Uncompressed bytes of one layer's tar stream (sparse files count at their full size). */
  readonly maxBytes: number;
  /** Entries of one layer's tar (every header: files, directories, links, whiteouts). */
  readonly maxEntries: number;
}

/** The bounds in force: the environment's, else the defaults. */
export function layerLimits(env?: Readonly<Record<string, string | undefined>>): LayerLimits {
  return {
    maxBytes: limitFromEnv(MAX_LAYER_BYTES_ENV, DEFAULT_MAX_LAYER_BYTES, env ?? process.env),
    maxEntries: limitFromEnv(MAX_LAYER_ENTRIES_ENV, DEFAULT_MAX_LAYER_ENTRIES, env ?? process.env),
  };
}

export function layerTooLarge(max: number): StrataError {
  return new StrataError("STRATA_LAYER_TOO_LARGE", `a layer expands to more than ${max} bytes (a decompression bomb?)`, {
    hint: `set ${MAX_LAYER_BYTES_ENV}=SIZE (e.g. 64g) if the image really has a layer this large`,
  });
}

export function layerTooManyEntries(max: number): StrataError {
  return new StrataError("STRATA_LAYER_TOO_MANY_ENTRIES", `a layer has more than ${max} entries`, {
    hint: `set ${MAX_LAYER_ENTRIES_ENV}=N if the image really has a layer this large`,
  });
}
