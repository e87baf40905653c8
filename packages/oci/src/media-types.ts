/** Media types Strata reads and writes: OCI image spec v1.1 and Docker's v2 schema 2. */
export const MediaType = Object.freeze({
  OciManifest: "application/vnd.oci.image.manifest.v1+json",
  OciIndex: "application/vnd.oci.image.index.v1+json",
  OciConfig: "application/vnd.oci.image.config.v1+json",
  OciLayer: "application/vnd.oci.image.layer.v1.tar",
  OciLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  OciLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  DockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  DockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  DockerConfig: "application/vnd.docker.container.image.v1+json",
  DockerLayer: "application/vnd.docker.image.rootfs.diff.tar",
  DockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  DockerForeignLayerGzip: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
} as const);

export type MediaTypeName = (typeof MediaType)[keyof typeof MediaType];

export function isIndexMediaType(mt: string | undefined): boolean {
  return mt === MediaType.OciIndex || mt === MediaType.DockerManifestList;
}

export function isManifestMediaType(mt: string | undefined): boolean {
  return mt === MediaType.OciManifest || mt === MediaType.DockerManifest;
}

/** How a layer media type says its blob is compressed, or undefined if it is not a layer type. */
export function layerCompression(mt: string): "none" | "gzip" | "zstd" | undefined {
  switch (mt) {
    case MediaType.OciLayer:
    case MediaType.DockerLayer:
      return "none";
    case MediaType.OciLayerGzip:
    case MediaType.DockerLayerGzip:
    case MediaType.DockerForeignLayerGzip:
      return "gzip";
    case MediaType.OciLayerZstd:
      return "zstd";
    default:
      return undefined;
  }
}

/** "oci" or "docker" for the manifest, config and layer types of either family. */
export function mediaTypeFamily(mt: string): "oci" | "docker" | undefined {
  if (mt.startsWith("application/vnd.oci.")) return "oci";
  if (mt.startsWith("application/vnd.docker.")) return "docker";
  return undefined;
}
