import type { SourceLocation } from "@strata/graph";
import type { Image } from "@strata/core";
import type { Span } from "../parser/types.ts";

/** What the importer knows while converting one Dockerfile. */
export interface ImportContext {
  readonly file: string;
  readonly escapeToken: "\\" | "`";
  /** Stages converted so far, by lower-cased name and by index (as `--from=0`). */
  readonly stagesByName: Map<string, Image>;
  readonly stagesByIndex: Image[];
  /** The build context every COPY/ADD/bind mount reads (carries the .dockerignore filter). */
  readonly contextExclude: readonly string[] | undefined;
  /** Named build contexts: a `--from=` naming one reads that directory (a stage of the same name wins). */
  readonly namedContexts: ReadonlySet<string>;
  /** The build context's directory relative to the image file (undefined: the file's own). */
  readonly contextPath?: string | undefined;
  /** Image names that are the local Docker daemon's (`dockerDaemon(name)`). */
  readonly daemonImages: ReadonlySet<string>;
  loc(span: Span): SourceLocation;
}
