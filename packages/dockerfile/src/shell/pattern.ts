/**
 * BuildKit's substitution patterns (`${VAR#p}`, `${VAR%p}`, `${VAR/p/r}`). One implementation,
 * in @strata/graph, so the lexer here and the build engine's template expansion agree; errors
 * are re-thrown as the lexer's ShellError.
 */
import { DEFAULT_MAX_WORD_BYTES, replacePatternGo as g1, trimPrefixPattern as g2, trimSuffixPattern as g3, TemplateError } from "@strata/graph";
import { ShellError } from "./errors.ts";

function shell<A extends unknown[], R>(fn: (...a: A) => R): (...a: A) => R {
  return (...a) => {
    try {
      return fn(...a);
    } catch (e) {
      if (e instanceof TemplateError) throw new ShellError(e.code === "STRATA_WORD_TOO_LONG" ? e.code : "DF_SHELL_BAD_PATTERN", e.message);
      throw e;
    }
  };
}

/** `${VAR//p/r}`, bounded like every expanded word (a replacement per character can be huge). */
export const replacePatternGo = shell((value: string, pattern: string, replacement: string, all: boolean) => g1(value, pattern, replacement, all, DEFAULT_MAX_WORD_BYTES));
export const trimPrefixPattern = shell(g2);
export const trimSuffixPattern = shell(g3);
