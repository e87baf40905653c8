import { narrowScope, SourceOp, StrataError, type ImageTransport, type ScopeEntry } from "@strata/graph";
import { argEntry, globalArgs, isArg, type Arg, type ArgValue } from "./arg.ts";
import { captureCallsite } from "./callsite.ts";
import { createImage, imageState, isImage, type Image } from "./image.ts";
import { scratchOp } from "./inline-file.ts";
import { tpl } from "./normalize.ts";
import type { FromOptions } from "./types.ts";

const IMAGE_SOURCE = Symbol.for("strata.imageSource");

/** An image read from somewhere other than a registry: a local OCI layout or archive, a docker archive, a Docker daemon. */
export interface ImageSource {
  readonly [IMAGE_SOURCE]: true;
  readonly transport: Exclude<ImageTransport, "registry">;
  /** A path (relative to the image file) with an optional `:ref`, or a daemon image name. */
  readonly ref: string;
}

function imageSource(transport: ImageSource["transport"], ref: string): ImageSource {
  if (transport !== "docker-daemon" && ref.startsWith("/")) {
    throw new TypeError(`${transport}(${JSON.stringify(ref)}): use a path relative to the image file, so the graph does not depend on the checkout location`);
  }
  return Object.freeze({ [IMAGE_SOURCE]: true as const, transport, ref });
}

/** An OCI image layout directory; `ref` picks a tag from its index (`org.opencontainers.image.ref.name`). */
export const ociLayout = (path: string, ref?: string): ImageSource => imageSource("oci-layout", ref ? `${path}:${ref}` : path);
/** A tar of an OCI image layout. */
export const ociArchive = (path: string, ref?: string): ImageSource => imageSource("oci-archive", ref ? `${path}:${ref}` : path);
/** A `docker save` archive; `ref` picks one of its RepoTags. */
export const dockerArchive = (path: string, ref?: string): ImageSource => imageSource("docker-archive", ref ? `${path}:${ref}` : path);
/** An image already in the local Docker daemon (`docker images`). */
export const dockerDaemon = (name: string): ImageSource => imageSource("docker-daemon", name);

function isImageSource(v: unknown): v is ImageSource {
  return typeof v === "object" && v !== null && (v as Record<symbol, unknown>)[IMAGE_SOURCE] === true;
}

/**
 * Starts an image from a base: a registry reference (`"node:22-slim"`, may read global args:
 * `` `node:${NODE_VERSION}` ``), a local image source (`ociLayout("./base")`), or another
 * Image (a new stage on top of it: its files, config and history; not its build args).
 */
export function from(base: string | Arg<string> | ImageSource | Image, options: FromOptions = {}): Image {
  if (isImage(base)) {
    const s = imageState(base);
    if (options.platform !== undefined) {
      throw new StrataError("STRATA_FROM_PLATFORM", "from(image, { platform }) is not possible: the platform belongs to the image's own base", {
        hint: "set { platform } where that image starts",
        locations: [captureCallsite()()],
      });
    }
    const scope: ScopeEntry[] = s.scope.length ? [...s.scope, { stage: true }] : [];
    return createImage({ ...s, scope, cmdSet: false, parent: { image: base.toDefinition(), steps: s.steps.length } });
  }
  const transport = isImageSource(base) ? base.transport : undefined;
  const refText = isImageSource(base) ? base.ref : isArg(base) ? `\${${base.name}}` : base;
  if (typeof refText !== "string" || !refText.trim() || /\s/.test(refText)) {
    throw new StrataError("STRATA_BAD_IMAGE_REF", `invalid image reference ${JSON.stringify(refText)}`, {
      hint: 'write it as name[:tag][@digest], e.g. "node:22-slim"',
      locations: [captureCallsite()()],
    });
  }
  if (!transport && refText === "scratch") return scratch();
  const ref = tpl(refText);
  const platform = options.platform === undefined ? undefined : tpl(options.platform);
  const visible: ScopeEntry[] = (options.args ?? [...globalArgs().values()]).map((a: Arg<ArgValue>) => argEntry(a));
  const scope = narrowScope(visible, [ref, ...(platform ? [platform] : [])]);
  const op = SourceOp.create(
    {
      type: "image",
      ref,
      ...(transport ? { transport } : {}),
      ...(platform !== undefined ? { platform } : {}),
      ...(scope.length ? { scope } : {}),
    },
    { location: captureCallsite() },
  );
  return createImage({ rootfs: op, steps: [], scope: [], cmdSet: false, ...(platform !== undefined ? { platform } : {}) });
}

/** An empty image (Dockerfile `FROM scratch`). */
export function scratch(): Image {
  return createImage({ rootfs: scratchOp(), steps: [], scope: [], cmdSet: false });
}
