/**
 * Character classes with Go's semantics (BuildKit is written in Go, and "is this a space"
 * decides how words split): `unicode.IsSpace`, `unicode.IsLetter`, `unicode.IsDigit`.
 */

/** Go's `unicode.IsSpace`: ASCII/Latin-1 spaces plus the Unicode White_Space property. */
export function isGoSpace(cp: number): boolean {
  if (cp <= 0xff) {
    return cp === 0x20 || (cp >= 0x09 && cp <= 0x0d) || cp === 0x85 || cp === 0xa0;
  }
  return (
    cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  );
}

import { isGoDigit, isGoLetter } from "@strata/graph";
export { isGoDigit };

/** Shell special parameters BuildKit accepts as a one-character name: `@ * # ? - $ ! 0`. */
export function isSpecialParam(c: number): boolean {
  return c === 0x40 || c === 0x2a || c === 0x23 || c === 0x3f || c === 0x2d || c === 0x24 || c === 0x21 || c === 0x30;
}

/**
 * Where a variable name that starts at `pos` ends, as BuildKit's lexer reads one after `$`:
 * a run of digits, one special parameter, or letters, digits and underscores.
 */
export function nameEnd(src: string, pos: number): number {
  const cp = (i: number) => (i < src.length ? src.codePointAt(i)! : -1);
  const width = (c: number) => (c > 0xffff ? 2 : 1);
  let i = pos;
  const first = cp(i);
  if (first < 0) return i;
  if (isGoDigit(first)) {
    while (cp(i) >= 0 && isGoDigit(cp(i))) i += width(cp(i));
    return i;
  }
  if (isSpecialParam(first)) return i + 1;
  for (;;) {
    const c = cp(i);
    if (c < 0 || (!isGoLetter(c) && !isGoDigit(c) && c !== 0x5f)) return i;
    i += width(c);
  }
}

/** Go's `strings.TrimSpace` (unicode.IsSpace on both ends). */
export function goTrimSpace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isGoSpace(s.charCodeAt(a))) a++;
  while (b > a && isGoSpace(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Go's `strings.TrimLeftFunc(s, unicode.IsSpace)`. */
export function goTrimLeftSpace(s: string): string {
  let a = 0;
  while (a < s.length && isGoSpace(s.charCodeAt(a))) a++;
  return a === 0 ? s : s.slice(a);
}

/** Splits on runs of `[\t\v\f\r ]` like BuildKit's `reWhitespace.Split(s, n)` (n < 0: no limit). */
export function splitReWhitespace(s: string, n: number): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c || c === 0x0d) {
      if (n > 0 && out.length === n - 1) break;
      out.push(s.slice(start, i));
      while (i < s.length) {
        const d = s.charCodeAt(i);
        if (d === 0x20 || d === 0x09 || d === 0x0b || d === 0x0c || d === 0x0d) i++;
        else break;
      }
      start = i;
      continue;
    }
    i++;
  }
  out.push(s.slice(start));
  return out;
}
