import { StrataError } from "@strata/graph";
import { processShellWord, toTemplate, toTemplates, type Span } from "@strata/dockerfile";

/**
 * The importer's word rules (packages/dockerfile/src/import/words.ts), repeated here so the
 * generated code passes the builders exactly the strings the importer passes them. Errors are
 * the importer's too, but the importer runs first on the same text, so they are not expected.
 */
export interface WordContext {
  readonly escapeToken: "\\" | "`";
  readonly file: string;
}

export function tpl(ctx: WordContext, raw: string, span: Span, what: string): string {
  try {
    return toTemplate(raw, { escapeToken: ctx.escapeToken });
  } catch (e) {
    throw badWord(ctx, span, what, e);
  }
}

export function tpls(ctx: WordContext, raw: string, span: Span, what: string): string[] {
  try {
    return toTemplates(raw, { escapeToken: ctx.escapeToken });
  } catch (e) {
    throw badWord(ctx, span, what, e);
  }
}

function badWord(ctx: WordContext, span: Span, what: string, e: unknown): StrataError {
  return new StrataError("STRATA_IMPORT_BAD_WORD", `${what}: ${(e as Error).message}`, {
    locations: [{ file: ctx.file, line: span.start.line, column: span.start.column }],
  });
}

/** True when a shell command is nothing but one heredoc head (`<<EOF`, `<<-'EOF'`): the RUN runs its body. */
export function isHeredocOnly(script: string): boolean {
  const word = script.trim();
  let i = 0;
  while (i < word.length && word.charCodeAt(i) >= 48 && word.charCodeAt(i) <= 57) i++;
  if (!word.startsWith("<<", i)) return false;
  i += 2;
  if (word[i] === "-") i++;
  const rest = word.slice(i);
  if (rest.includes("<") || rest.length === 0) return false;
  const none = () => undefined;
  return processShellWord(rest, none, { skipUnsetEnv: true }).words.length === 1;
}
