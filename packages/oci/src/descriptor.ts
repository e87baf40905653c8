import type { Digest, Platform } from "@strata/graph";

/** An OCI content descriptor. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly urls?: readonly string[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly platform?: Platform & { readonly "os.version"?: string; readonly "os.features"?: readonly string[] };
  readonly artifactType?: string;
}

export interface Manifest {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly subject?: Descriptor;
  readonly artifactType?: string;
}

export interface Index {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly manifests: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
}
