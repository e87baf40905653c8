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

export { isGoDigit, isGoLetter } from "@strata/graph";

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
