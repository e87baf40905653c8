import type { Image } from "@strata/core";

/** The OCI standard image annotations, as labels (https://github.com/opencontainers/image-spec/blob/main/annotations.md). */
export interface OciLabels {
  /** Human-readable title of the image (`org.opencontainers.image.title`). */
  readonly title?: string;
  /** Human-readable description of the software in the image (`org.opencontainers.image.description`). */
  readonly description?: string;
  /** Version of the packaged software (`org.opencontainers.image.version`), e.g. `1.4.2`. */
  readonly version?: string;
  /** Source revision (commit). */
  readonly revision?: string;
  /** URL of the source repository. */
  readonly source?: `https://${string}` | `http://${string}` | `git@${string}`;
  /** URL to find more information on the image (`org.opencontainers.image.url`). */
  readonly url?: `https://${string}` | `http://${string}`;
  /** URL of the image's documentation (`org.opencontainers.image.documentation`). */
  readonly documentation?: `https://${string}` | `http://${string}`;
  /** Who distributes the image (`org.opencontainers.image.vendor`). */
  readonly vendor?: string;
  /** Contact for the image: names and emails (`org.opencontainers.image.authors`). */
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
