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
  /** Where the image is read from: `oci-layout`, `oci-archive`, `docker-archive` or `docker-daemon` (skopeo's transport names). */
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
    // Args go out of scope at a stage boundary; a kept prefix of global declarations stays usable.
    // (Consecutive boundaries are one: `FROM a AS b` then `FROM b` is `FROM a`.)
    const last = s.scope[s.scope.length - 1];
    const needsBoundary = s.scope.some((e) => !("globalArg" in e)) && !(last && "stage" in last);
    const scope: ScopeEntry[] = needsBoundary ? [...s.scope, { stage: true }] : [...s.scope];
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
  if (!transport && refText === "scratch") return scratch(options.args ? { args: options.args } : {});
  const ref = tpl(refText);
  const platform = options.platform === undefined ? undefined : tpl(options.platform);
  const visibleArgs = options.args ?? [...globalArgs().values()];
  const visible: ScopeEntry[] = visibleArgs.map((a: Arg<ArgValue>) => argEntry(a));
  const scope = narrowScope(visible, [ref, ...(platform ? [platform] : [])]);
  const globals: ScopeEntry[] = visible.map((e) => ("arg" in e && "default" in e && e.default !== undefined ? { globalArg: e.arg, default: e.default } : { globalArg: (e as { arg: string }).arg }));
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
  return createImage({ rootfs: op, steps: [], scope: [], globals, cmdSet: false, ...(platform !== undefined ? { platform } : {}) });
}

/** An empty image (Dockerfile `FROM scratch`); `args`: the global args its stage may re-declare (default: every `arg()`). */
export function scratch(options: Pick<FromOptions, "args"> = {}): Image {
  const globals: ScopeEntry[] = [...(options.args ?? globalArgs().values())].map((a) => {
    const e = argEntry(a);
    return e.default !== undefined ? { globalArg: e.arg, default: e.default } : { globalArg: e.arg };
  });
  return createImage({ rootfs: scratchOp(), steps: [], scope: [], globals, cmdSet: false });
}
