import type { Scope } from "../scope.ts";
import type { OpMeta } from "../source-location.ts";
import type { Op } from "./op.ts";

/** A command: exec form runs argv as-is; shell form runs `script` through the image's SHELL. */
export type Command =
  | { readonly form: "exec"; readonly argv: readonly string[] }
  | { readonly form: "shell"; readonly script: string };

export type CacheSharing = "shared" | "private" | "locked";

/** A mount for one RUN step. Strings are templates. `input` indexes the op's inputs. */
export type Mount =
  | {
      readonly type: "cache";
      readonly target: string;
      readonly id?: string;
      readonly sharing?: CacheSharing;
      readonly input?: number;
      readonly source?: string;
      readonly readonly?: boolean;
      readonly uid?: number;
      readonly gid?: number;
      readonly mode?: number;
    }
  | {
      readonly type: "bind";
      readonly target: string;
      readonly input?: number;
      readonly source?: string;
      readonly readwrite?: boolean;
    }
  | { readonly type: "tmpfs"; readonly target: string; readonly size?: number }
  | {
      readonly type: "secret";
      readonly id: string;
      readonly target?: string;
      readonly env?: string;
      readonly required?: boolean;
      readonly uid?: number;
      readonly gid?: number;
      readonly mode?: number;
    }
  | {
      readonly type: "ssh";
      readonly id?: string;
      readonly target?: string;
      readonly required?: boolean;
      readonly uid?: number;
      readonly gid?: number;
      readonly mode?: number;
    };

export type Network = "default" | "none" | "host";
export type Security = "sandbox" | "insecure";

export interface ExecOp {
  readonly kind: "ExecOp";
  /** inputs[0] is the root filesystem; the rest are mount sources. */
  readonly inputs: readonly Op[];
  readonly command: Command;
  /** The SHELL in effect when set by the definition; absent: the base image's Shell, else `/bin/sh -c`. */
  readonly shell?: readonly string[];
  /** Full env edits, args in scope (they become the process environment) and the WORKDIR chain. */
  readonly scope: Scope;
  /** Template; absent: the base image's User. */
  readonly user?: string;
  readonly mounts: readonly Mount[];
  readonly network?: Exclude<Network, "default">;
  readonly security?: Exclude<Security, "sandbox">;
  readonly meta?: OpMeta;
}

export interface ExecOpInit {
  readonly inputs: readonly Op[];
  readonly command: Command;
  readonly shell?: readonly string[] | undefined;
  readonly scope: Scope;
  readonly user?: string | undefined;
  readonly mounts?: readonly Mount[] | undefined;
  readonly network?: Network | undefined;
  readonly security?: Security | undefined;
  readonly meta?: OpMeta | undefined;
}

export const ExecOp = Object.freeze({
  create(init: ExecOpInit): ExecOp {
    // Mounts are sorted by target so that their order in the source does not change the
    // digest, and mount inputs are renumbered in that order for the same reason.
    // Code-unit order, never localeCompare: the digest must not depend on the machine's locale.
    const sorted = [...(init.mounts ?? [])].sort((a, b) => (mountKey(a) < mountKey(b) ? -1 : mountKey(a) > mountKey(b) ? 1 : 0));
    const inputs: Op[] = [init.inputs[0]!];
    const remap = new Map<number, number>([[0, 0]]);
    const mounts = sorted.map((m) => {
      if (!("input" in m) || m.input === undefined) return Object.freeze(m);
      let to = remap.get(m.input);
      if (to === undefined) {
        to = inputs.push(init.inputs[m.input]!) - 1;
        remap.set(m.input, to);
      }
      return Object.freeze({ ...m, input: to });
    });
    let meta = init.meta;
    if (meta?.images) {
      const images = Object.fromEntries(Object.entries(meta.images).map(([i, img]) => [String(remap.get(Number(i)) ?? Number(i)), img]));
      meta = { ...meta, images };
    }
    return Object.freeze({
      kind: "ExecOp",
      inputs: Object.freeze(inputs),
      command: Object.freeze(init.command),
      ...(init.shell ? { shell: Object.freeze([...init.shell]) } : {}),
      scope: init.scope,
      ...(init.user !== undefined ? { user: init.user } : {}),
      mounts: Object.freeze(mounts),
      ...(init.network && init.network !== "default" ? { network: init.network } : {}),
      ...(init.security && init.security !== "sandbox" ? { security: init.security } : {}),
      ...(meta ? { meta } : {}),
    });
  },
  is(op: { kind: string }): op is ExecOp {
    return op.kind === "ExecOp";
  },
});

function mountKey(m: Mount): string {
  return `${m.target ?? ""}\u0000${m.type}\u0000${"id" in m ? (m.id ?? "") : ""}\u0000${"env" in m ? (m.env ?? "") : ""}`;
}
