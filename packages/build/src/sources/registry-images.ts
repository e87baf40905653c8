import type { Readable } from "node:stream";
import { StrataError, type ImageConfigFile } from "@strata/graph";
import { imageFromStore, type BlobStore } from "@strata/oci";
import type { Registry, RegistryOptions } from "@strata/registry";
import type { ImageResolver, ImageSpec, ResolvedImage } from "./image-sources.ts";

/**
 * Images from registries: `resolve` asks the registry which manifest the reference names
 * (one request), `load` pulls what is missing into the store, verified. A reference pinned
 * by digest resolves without any request.
 */
export class RegistryImageResolver implements ImageResolver {
  private registryP: Promise<{ registry: Registry; parseReference: typeof import("@strata/registry").parseReference }> | undefined;

  constructor(
    private readonly store: BlobStore,
    private readonly opts: RegistryOptions = {},
    private readonly onProgress?: (message: string) => void,
  ) {}

  /** The HTTP client loads only when a build actually talks to a registry. */
  private client() {
    this.registryP ??= import("@strata/registry").then((m) => ({ registry: new m.Registry(this.opts), parseReference: m.parseReference }));
    return this.registryP;
  }

  async resolve(spec: ImageSpec): Promise<ResolvedImage> {
    const { registry, parseReference } = await this.client();
    let ref;
    try {
      ref = parseReference(spec.ref);
    } catch (e) {
      throw new StrataError("STRATA_BAD_IMAGE_REF", (e as Error).message, { hint: 'write it as name[:tag][@digest], e.g. "node:22-slim"' });
    }
    const resolved = await registry.resolve(ref, { platform: spec.platform });
    return {
      key: resolved.digest,
      load: async () => {
        this.onProgress?.(`pulling ${spec.ref}`);
        const pulled = await registry.pull(ref, this.store, { platform: spec.platform });
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
