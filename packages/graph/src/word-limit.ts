import { TemplateError } from "./template-error.ts";

/**
 * The default bound on one expanded word (an ARG or ENV value, a path, a label…): 1 MiB.
 * Linux refuses any single argument or environment string over 128 KiB (MAX_ARG_STRLEN), so no
 * RUN step can use a longer one; the bound exists so that a few doubling ARGs (`ARG B=$A$A`,
 * `ARG C=$B$B`, …) fail at once instead of exhausting memory.
 */
export const DEFAULT_MAX_WORD_BYTES = 1024 * 1024;

/** The environment variable that raises (or lowers) the bound, read by the engine and the CLI. */
export const MAX_WORD_BYTES_ENV = "STRATA_MAX_WORD_BYTES";

/** UTF-8 length of a string, without allocating (the graph package runs without Node's Buffer). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Whether `s` is over `max` bytes of UTF-8. Cheap for short strings: a string of at most
 * max/3 code units cannot be over it, one of more than max code units always is.
 */
export function overWordLimit(s: string, max: number): boolean {
  if (s.length > max) return true;
  if (s.length * 3 <= max) return false;
  return utf8Length(s) > max;
}

/** The coded error for a word over the bound; `what` names what was being expanded. */
export function wordTooLong(max: number, what?: string): TemplateError {
  return new TemplateError("STRATA_WORD_TOO_LONG", `${what ? `${what} expands` : "a word expands"} to more than ${max} bytes`, {
    hint: `a word (an ARG or ENV value, a path, a label) may expand to at most ${max} bytes; set ${MAX_WORD_BYTES_ENV}=BYTES to raise the bound`,
  });
}
