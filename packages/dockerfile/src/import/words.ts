import { StrataError, templateFromUser, templateRefs } from "@strata/graph";
import { toTemplate, toTemplates } from "../shell/to-template.ts";
import type { Span } from "../parser/types.ts";
import type { ImportContext } from "./context.ts";

/** A raw Dockerfile word as a graph template (quotes resolved, `$VARS` kept symbolic). */
export function tpl(ctx: ImportContext, raw: string, span: Span, what: string): string {
  try {
    return toTemplate(raw, { escapeToken: ctx.escapeToken });
  } catch (e) {
    throw new StrataError("STRATA_IMPORT_BAD_WORD", `${what}: ${(e as Error).message}`, { locations: [ctx.loc(span)] });
  }
}

/** Several words (as BuildKit's ProcessWords splits them), each a template. */
export function tpls(ctx: ImportContext, raw: string, span: Span, what: string): string[] {
  try {
    return toTemplates(raw, { escapeToken: ctx.escapeToken });
  } catch (e) {
    throw new StrataError("STRATA_IMPORT_BAD_WORD", `${what}: ${(e as Error).message}`, { locations: [ctx.loc(span)] });
  }
}

/**
 * Heredoc content as a template, for COPY heredocs whose delimiter is unquoted: BuildKit
 * expands it with its word lexer minus quote processing, so `$NAME` references expand and a
 * backslash makes the next character literal (`\\` is one backslash, `\$` a dollar).
 */
export function heredocTemplate(content: string): string {
  let out = "";
  for (let i = 0; i < content.length; i++) {
    const c = content[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const n = content[++i];
    if (n === undefined) break;
    out += n === "$" || n === "\\" ? `\\${n}` : n;
  }
  return templateFromUser(out);
}

export function hasRefs(template: string): boolean {
  return templateRefs(template).length > 0;
}
