import type { ts } from "ts-morph";
import type { Span } from "@strata/dockerfile";
import { call, id } from "./literals.ts";
import type { CoreName } from "./names.ts";
import type { WordContext } from "./words.ts";

/** What one conversion knows: the Dockerfile's lines, the names chosen, the imports used so far. */
export interface GenContext extends WordContext {
  readonly lines: readonly string[];
  readonly imports: Set<CoreName>;
  /** Global args by name → the identifier of the latest declaration's const. */
  readonly globalConsts: ReadonlyMap<string, string>;
  /** The const holding the build context when a `.dockerignore` applies (else COPY reads plain paths). */
  readonly contextConst: string | undefined;
  /** Stages converted so far, by lower-cased name and by index (as the importer resolves `--from`). */
  readonly stagesByName: Map<string, StageRef>;
  readonly stagesByIndex: StageRef[];
  /** Mount lists used by several RUN steps (by their flags' text): written once as a const. */
  readonly sharedMounts?: SharedMounts;
}

interface SharedMounts {
  /** Flag text of a RUN's mounts → how many RUN steps use exactly that list. */
  readonly uses: ReadonlyMap<string, number>;
  /** The consts made so far (flag text → name and list), in order of first use. */
  readonly made: Map<string, { readonly name: string; readonly list: ts.Expression }>;
  take(wanted: string): string;
}

export interface StageRef {
  readonly index: number;
  /** The const that holds the stage's image. */
  readonly constName: string;
}

/** An identifier imported from @strata/core (recorded so the import lists exactly what is used). */
export function core(ctx: GenContext, name: CoreName): ts.Identifier {
  ctx.imports.add(name);
  return id(name);
}

export function coreCall(ctx: GenContext, name: CoreName, args: readonly ts.Expression[]): ts.Expression {
  return call(core(ctx, name), args);
}

export function spanLocation(ctx: GenContext, span: Span): { file: string; line: number; column: number } {
  return { file: ctx.file, line: span.start.line, column: span.start.column };
}
