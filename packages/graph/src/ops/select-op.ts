import { imageDigest, type ImageDefinition } from "../layer-graph.ts";
import type { Digest } from "../digest.ts";
import type { Scope } from "../scope.ts";
import type { OpMeta } from "../source-location.ts";
import type { Op } from "./op.ts";

/**
 * The root filesystem of the stage a build arg names (Dockerfile `FROM base-$TARGETOS`, where
 * `base-linux` and `base-darwin` are earlier stages). `key` is expanded when the build's args
 * are known (the FROM line's scope: global args and the predefined platform args); the input
 * whose name equals the value is the result. With `fallback`, the last input (an image
 * source for the same template) is used when no name matches, as BuildKit reads the value as
 * an image reference then; without it, no match is an error.
 */
export interface SelectOp {
  readonly kind: "SelectOp";
  /** The candidates' root filesystems, in `names` order (sorted by name), and the fallback last. */
  readonly inputs: readonly Op[];
  /** Template, e.g. `binaries-${TARGETOS}`. */
  readonly key: string;
  /** Each candidate's name (what `key` must expand to to pick it), one per input before the fallback. */
  readonly names: readonly string[];
  /**
   * Each input's image definition digest: the picked stage's config (ENV, USER, CMD…) and
   * history become the new stage's, so they are part of this op's identity. The definitions
   * themselves are `meta.images` (input index → image), like a `COPY --from` source's.
   */
  readonly stages: readonly Digest[];
  readonly fallback?: true;
  /** The global args `key` reads. */
  readonly scope?: Scope;
  readonly meta?: OpMeta;
}

export interface SelectOpInit {
  readonly key: string;
  readonly candidates: ReadonlyArray<{ readonly name: string; readonly image: ImageDefinition }>;
  /** The image to use when the value names no candidate (BuildKit reads it as an image reference). */
  readonly fallback?: ImageDefinition | undefined;
  readonly scope?: Scope | undefined;
  readonly meta?: OpMeta | undefined;
}

export const SelectOp = Object.freeze({
  create(init: SelectOpInit): SelectOp {
    // Sorted by name (code units, never the locale): the order the stages were written in is no part of the meaning.
    const candidates = [...init.candidates].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const names = candidates.map((c) => c.name);
    if (!names.length) throw new TypeError("SelectOp needs at least one candidate");
    if (new Set(names).size !== names.length) throw new TypeError(`SelectOp candidates must have distinct names (${names.join(", ")})`);
    const images = [...candidates.map((c) => c.image), ...(init.fallback ? [init.fallback] : [])];
    const meta: OpMeta = { ...init.meta, images: Object.freeze(Object.fromEntries(images.map((img, i) => [String(i), img]))) };
    return Object.freeze({
      kind: "SelectOp",
      inputs: Object.freeze(images.map((img) => img.rootfs)),
      key: init.key,
      names: Object.freeze(names),
      stages: Object.freeze(images.map(imageDigest)),
      ...(init.fallback ? { fallback: true as const } : {}),
      ...(init.scope?.length ? { scope: init.scope } : {}),
      meta,
    });
  },
  is(op: { kind: string }): op is SelectOp {
    return op.kind === "SelectOp";
  },
});
