import type { ImageDefinition } from "./layer-graph.ts";

/** A 1-based position range in a source file (`.image.ts` or Dockerfile). */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly endLine?: number;
  readonly endColumn?: number;
}

/**
 * Provenance kept beside an op, never inside its digest. `location` may be lazy: builders
 * capture a call site cheaply and resolve it (through source maps) only when someone asks.
 */
export interface OpMeta {
  readonly description?: string;
  readonly location?: SourceLocation | (() => SourceLocation | undefined);
  /**
   * For inputs that are another image's root filesystem (a copy or mount from a stage): input
   * index → that image's definition, so exporters can write the stage it comes from.
   */
  readonly images?: Readonly<Record<number, ImageDefinition>>;
}

export function resolveLocation(meta: OpMeta | undefined): SourceLocation | undefined {
  const loc = meta?.location;
  return typeof loc === "function" ? loc() : loc;
}

export function formatLocation(loc: SourceLocation): string {
  return `${loc.file}:${loc.line}:${loc.column}`;
}
