import type { Image } from "@strata/core";

/** The OCI standard image annotations, as labels (https://github.com/opencontainers/image-spec/blob/main/annotations.md). */
export interface OciLabels {
  readonly title?: string;
  readonly description?: string;
  readonly version?: string;
  /** Source revision (commit). */
  readonly revision?: string;
  /** URL of the source repository. */
  readonly source?: `https://${string}` | `http://${string}` | `git@${string}`;
  readonly url?: `https://${string}` | `http://${string}`;
  readonly documentation?: `https://${string}` | `http://${string}`;
  readonly vendor?: string;
  readonly authors?: string;
  /** SPDX license expression, e.g. `Apache-2.0` or `MIT OR Apache-2.0`. */
  readonly licenses?: string;
  /** RFC 3339 date-time. */
  readonly created?: `${number}-${number}-${number}T${string}`;
}

/** A fragment setting `org.opencontainers.image.*` labels: `img.with(ociLabels({ title: "api", licenses: "MIT" }))`. */
export function ociLabels(labels: OciLabels): (image: Image) => Image {
  const entries = Object.entries(labels).filter(([, v]) => v !== undefined) as [string, string][];
  return (image) => (entries.length ? image.label(Object.fromEntries(entries.map(([k, v]) => [`org.opencontainers.image.${k}`, v]))) : image);
}
