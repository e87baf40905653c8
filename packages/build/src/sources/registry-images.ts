import type { Readable } from "node:stream";
import { StrataError, type ImageConfigFile } from "@strata/graph";
import { imageFromStore, type BlobStore } from "@strata/oci";
import { Registry, parseReference, type RegistryOptions } from "@strata/registry";
import type { ImageResolver, ImageSpec, ResolvedImage } from "./image-sources.ts";

/**
 * Images from registries: `resolve` asks the registry which manifest the reference names
 * (one request), `load` pulls what is missing into the store, verified. A reference pinned
 * by digest resolves without any request.
 */
export class RegistryImageResolver implements ImageResolver {
  private readonly registry: Registry;

  constructor(
    private readonly store: BlobStore,
    opts: RegistryOptions = {},
    private readonly onProgress?: (message: string) => void,
  ) {
    this.registry = new Registry(opts);
  }

  async resolve(spec: ImageSpec): Promise<ResolvedImage> {
    let ref;
    try {
      ref = parseReference(spec.ref);
    } catch (e) {
      throw new StrataError("STRATA_BAD_IMAGE_REF", (e as Error).message, { hint: 'write it as name[:tag][@digest], e.g. "node:22-slim"' });
    }
    const resolved = await this.registry.resolve(ref, { platform: spec.platform });
    return {
      key: resolved.digest,
      load: async () => {
        this.onProgress?.(`pulling ${spec.ref}`);
        const pulled = await this.registry.pull(ref, this.store, { platform: spec.platform });
        const img = await imageFromStore(this.store, pulled.digest);
        return {
          manifestDigest: img.manifestDigest,
          configBytes: img.configBytes,
          config: img.config as ImageConfigFile,
          layers: img.layers.map((l) => ({ diffId: l.diffId, open: (): Promise<Readable> => l.open() })),
        };
      },
    };
  }
}
