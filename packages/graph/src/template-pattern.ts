/**
 * (Shared with @strata/dockerfile's lexer: one implementation of BuildKit's pattern rules.)
 *
 * The shell patterns of `${VAR#p}`, `${VAR%p}` and `${VAR/p/r}` as BuildKit evaluates them:
 * converted to a Go regular expression (`*` any run, `?` one character, `\` escapes only
 * `*`, `?` and `\`; `\}` / `\/` drop the backslash; no bracket expressions; `.` never
 * matches a newline, as Go's `.` does not), then matched leftmost-first.
 */
import { isGoDigit, isGoLetter } from "./go-chars.ts";
import { TemplateError } from "./template-error.ts";
import { overWordLimit, wordTooLong } from "./word-limit.ts";

const META = new Set(["[", "]", "{", "}", ".", "+", "(", ")", "|", "^", "$"]);

export function shellPatternToRegExp(pattern: string, greedy: boolean, anchored: boolean, flags = "u"): RegExp {
  let out = anchored ? "^" : "";
  const star = greedy ? "[^\\n]*" : "[^\\n]*?";
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const tok = chars[i]!;
    if (tok === "*") {
      out += star;
      continue;
    }
    if (tok === "?") {
      out += "[^\\n]";
      continue;
    }
    if (tok === "\\") {
      const nxt = chars[i + 1];
      if (nxt === "}" || nxt === "/") continue;
      i++;
      if (nxt !== "*" && nxt !== "?" && nxt !== "\\") {
        throw new TemplateError("STRATA_TEMPLATE_BAD_PATTERN", `invalid pattern (${pattern}) in substitution: invalid escape '\\${nxt ?? "\ufffd"}'`);
      }
      out += `\\${nxt}`;
      continue;
    }
    out += META.has(tok) ? `\\${tok}` : tok;
  }
  return new RegExp(out, flags);
}

export function trimPrefixPattern(pattern: string, value: string, greedy: boolean): string {
  const re = shellPatternToRegExp(pattern, greedy, true);
  const m = re.exec(value);
  return m ? value.slice(m.index + m[0].length) : value;
}

/** Reverses a pattern but keeps `\x` pairs in order (`a\*c` → `c\*a`), as BuildKit does. */
function reversePattern(pattern: string): string {
  const r = Array.from(pattern);
  const out: string[] = new Array<string>(r.length);
  const last = r.length - 1;
  for (let i = 0; i <= last; ) {
    const tok = r[i]!;
    const o = last - i;
    if (tok === "\\" && i !== last) {
      out[o - 1] = tok;
      out[o] = r[i + 1]!;
      i += 2;
    } else {
      out[o] = tok;
      i++;
    }
  }
  return out.join("");
}

function reverseString(s: string): string {
  return Array.from(s).reverse().join("");
}

export function trimSuffixPattern(pattern: string, value: string, greedy: boolean): string {
  // Regular expressions cannot find the shortest rightmost match, so reverse both sides.
  return reverseString(trimPrefixPattern(reversePattern(pattern), reverseString(value), greedy));
}

/** `${VAR/p/r}` and `${VAR//p/r}`: Go's FindStringIndex / ReplaceAllString (with its `$` template). */
export function replacePatternGo(value: string, pattern: string, replacement: string, all: boolean, maxBytes = Infinity): string {
  if (!all) {
    const re = shellPatternToRegExp(pattern, true, false);
    const m = re.exec(value);
    if (!m) return value;
    return value.slice(0, m.index) + replacement + value.slice(m.index + m[0].length);
  }
  const re = shellPatternToRegExp(pattern, true, false, "gu");
  let out = "";
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= value.length) {
    re.lastIndex = searchPos;
    const m = re.exec(value);
    if (!m) break;
    const a0 = m.index;
    const a1 = a0 + m[0].length;
    out += value.slice(lastMatchEnd, a0);
    if (a1 > lastMatchEnd || a0 === 0) out += expandGoTemplate(replacement, m[0]);
    // Every match may add a whole replacement: bound the result while it grows.
    if (overWordLimit(out, maxBytes)) throw wordTooLong(maxBytes);
    lastMatchEnd = a1;
    const cp = value.codePointAt(searchPos);
    const width = cp === undefined ? 0 : cp > 0xffff ? 2 : 1;
    if (searchPos + width > a1) searchPos += width;
    else if (searchPos + 1 > a1) searchPos++;
    else searchPos = a1;
  }
  return out + value.slice(lastMatchEnd);
}

/** Go's regexp.Expand for a regexp without capture groups: `$$`, `$0`/`${0}` (the match), other names → "". */
function expandGoTemplate(template: string, match: string): string {
  if (!template.includes("$")) return template;
  let out = "";
  let t = template;
  for (;;) {
    const i = t.indexOf("$");
    if (i < 0) break;
    out += t.slice(0, i);
    t = t.slice(i + 1);
    if (t.startsWith("$")) {
      out += "$";
      t = t.slice(1);
      continue;
    }
    let s = t;
    let brace = false;
    if (s.startsWith("{")) {
      brace = true;
      s = s.slice(1);
    }
    let j = 0;
    for (const ch of s) {
      const cp = ch.codePointAt(0)!;
      if (!isGoLetter(cp) && !isGoDigit(cp) && cp !== 0x5f) break;
      j += ch.length;
    }
    if (j === 0 || (brace && s[j] !== "}")) {
      out += "$";
      continue;
    }
    const name = s.slice(0, j);
    t = s.slice(j + (brace ? 1 : 0));
    if (/^[0-9]+$/.test(name) && !(name[0] === "0" && name.length > 1) && Number(name) === 0) out += match;
  }
  return out + t;
}
