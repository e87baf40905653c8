import type { Scope } from "../scope.ts";
import type { OpMeta } from "../source-location.ts";
import type { Digest } from "../digest.ts";

/** Where an image source's bytes come from (the names follow skopeo's transports). */
export type ImageTransport = "registry" | "oci-layout" | "oci-archive" | "docker-archive" | "docker-daemon";

export type Source =
  | { readonly type: "scratch" }
  | {
      readonly type: "image";
      /** A template: `node:${NODE_VERSION}-slim`; for file transports a path (relative to the image file) with an optional `:ref`. */
      readonly ref: string;
      readonly transport?: Exclude<ImageTransport, "registry">;
      /** Template, e.g. `linux/arm64` or `$BUILDPLATFORM`. */
      readonly platform?: string;
      /** The global build args the templates read (what a Dockerfile's FROM line sees). */
      readonly scope?: Scope;
    }
  | {
      readonly type: "local";
      /** The context's name (`context` is the build context). */
      readonly name: string;
      /** Relative to the image file's directory (never absolute: digests must not depend on the checkout path). */
      readonly path?: string;
      readonly include?: readonly string[];
      readonly exclude?: readonly string[];
    }
  | {
      readonly type: "git";
      readonly url: string;
      readonly ref?: string;
      readonly keepGitDir?: boolean;
      readonly checksum?: string;
      readonly scope?: Scope;
    }
  | {
      readonly type: "http";
      readonly url: string;
      readonly checksum?: Digest | string;
      readonly filename?: string;
      readonly chmod?: string;
      readonly scope?: Scope;
    };

export interface SourceOp {
  readonly kind: "SourceOp";
  readonly inputs: readonly [];
  readonly source: Source;
  readonly meta?: OpMeta;
}

export const SourceOp = Object.freeze({
  create(source: Source, meta?: OpMeta): SourceOp {
    return Object.freeze({ kind: "SourceOp", inputs: Object.freeze([]) as readonly [], source: Object.freeze(source), ...(meta ? { meta } : {}) });
  },
  is(op: { kind: string }): op is SourceOp {
    return op.kind === "SourceOp";
  },
});
