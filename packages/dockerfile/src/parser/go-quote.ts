/** Go's `strconv.Quote` (BuildKit's Node.Dump prints every value with it). */

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

export function goQuote(s: string): string {
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // Fast path: printable ASCII other than " and \.
    if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(from, i);
    if (c === 0x22 || c === 0x5c) {
      out += `\\${s[i]}`;
    } else if (c < 0x80) {
      switch (c) {
        case 0x07: out += "\\a"; break;
        case 0x08: out += "\\b"; break;
        case 0x0c: out += "\\f"; break;
        case 0x0a: out += "\\n"; break;
        case 0x0d: out += "\\r"; break;
        case 0x09: out += "\\t"; break;
        case 0x0b: out += "\\v"; break;
        default: out += `\\x${hex(c, 2)}`;
      }
    } else {
      let cp = s.codePointAt(i)!;
      if (cp > 0xffff) i++;
      else if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; // a lone surrogate: Go would hold U+FFFD
      const ch = String.fromCodePoint(cp);
      if (PRINTABLE.test(ch)) out += ch;
      else if (cp < 0x10000) out += `\\u${hex(cp, 4)}`;
      else out += `\\U${hex(cp, 8)}`;
    }
    from = i + 1;
  }
  return `${out + s.slice(from)}"`;
}

/** Go's `fmt.Sprintf("%q", []string{…})`: `["a" "b"]`. */
export function goQuoteList(list: readonly string[]): string {
  return `[${list.map(goQuote).join(" ")}]`;
}
