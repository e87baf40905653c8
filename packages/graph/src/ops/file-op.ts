import type { Scope } from "../scope.ts";
import type { OpMeta } from "../source-location.ts";
import type { Op } from "./op.ts";

/**
 * One file action. Paths and owner strings are templates; relative destinations resolve
 * against the op's WORKDIR chain. `from` indexes the op's inputs (0 is the base filesystem).
 */
export type FileAction =
  | {
      readonly action: "copy";
      readonly from: number;
      /** Source paths or globs inside `from` (a context, another image, an http or git source). */
      readonly src: readonly string[];
      readonly dest: string;
      readonly chown?: string;
      /** Octal (`755`) or symbolic (`u+x,go=r`), as Dockerfile `--chmod`. */
      readonly chmod?: string;
      readonly link?: boolean;
      readonly exclude?: readonly string[];
      readonly parents?: boolean;
      /** ADD semantics: local tar archives are unpacked (`unpack` forces either way). */
      readonly add?: boolean;
      readonly unpack?: boolean;
      readonly keepGitDir?: boolean;
    }
  | { readonly action: "mkdir"; readonly path: string; readonly mode?: number; readonly parents?: boolean; readonly chown?: string }
  /** `expand`: `data` is a template (a heredoc without quoted delimiter), expanded in the op's scope. */
  | { readonly action: "mkfile"; readonly path: string; readonly data: string; readonly mode?: number; readonly chown?: string; readonly chmod?: string; readonly expand?: boolean }
  | { readonly action: "rm"; readonly path: string; readonly allowNotFound?: boolean; readonly allowWildcard?: boolean }
  | { readonly action: "symlink"; readonly target: string; readonly path: string };

export interface FileOp {
  readonly kind: "FileOp";
  /** inputs[0] is the filesystem the actions apply to; the others are copy sources. */
  readonly inputs: readonly Op[];
  readonly actions: readonly FileAction[];
  /** What the templates read (narrowed: an unrelated ENV or ARG does not change this op). */
  readonly scope: Scope;
  readonly meta?: OpMeta;
}

export const FileOp = Object.freeze({
  create(inputs: readonly Op[], actions: readonly FileAction[], scope: Scope, meta?: OpMeta): FileOp {
    return Object.freeze({
      kind: "FileOp",
      inputs: Object.freeze([...inputs]),
      actions: Object.freeze(actions.map((a) => Object.freeze(a))),
      scope,
      ...(meta ? { meta } : {}),
    });
  },
  is(op: { kind: string }): op is FileOp {
    return op.kind === "FileOp";
  },
});
