import type { ConfigEdit } from "./config-edit.ts";
import type { Op } from "./ops/op.ts";
import type { ScopeEntry } from "./scope.ts";
import type { OpMeta } from "./source-location.ts";

/** Dockerfile instruction names, plus MERGE for filesystem merges that Dockerfiles cannot write. */
export type Instruction =
  | "ADD"
  | "ARG"
  | "CMD"
  | "COPY"
  | "ENTRYPOINT"
  | "ENV"
  | "EXPOSE"
  | "HEALTHCHECK"
  | "LABEL"
  | "MAINTAINER"
  | "ONBUILD"
  | "RUN"
  | "SHELL"
  | "STOPSIGNAL"
  | "USER"
  | "VOLUME"
  | "WORKDIR"
  | "MERGE";

/**
 * One step of an image's history. A step that changes the filesystem names the op whose
 * result is the new root filesystem (one layer per such step); a config step lists its edits;
 * an ARG step declares build args. `createdBy` is the readable text of the history entry.
 */
export interface Step {
  readonly instruction: Instruction;
  readonly createdBy: string;
  readonly op?: Op;
  readonly edits?: readonly ConfigEdit[];
  readonly scope?: readonly ScopeEntry[];
  readonly meta?: OpMeta;
}
