/**
 * Canonical template printing. Same output as the graph's `formatSegments` for every
 * top-level word; it differs only where `formatSegments` produces an unparsable template:
 * it escapes `}` inside the *text* of nested words (not the braces of nested references)
 * and inside `/` replacements, which `formatSegments` leaves bare.
 */
import type { Segment } from "@strata/graph";

export function formatTemplate(segs: readonly Segment[]): string {
  return fmt(segs, 0);
}

/** ctx: 0 top level, 1 word of `${X:-…}`, 2 pattern of `${X/…/}`, 3 replacement. */
function fmt(segs: readonly Segment[], ctx: 0 | 1 | 2 | 3): string {
  let out = "";
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!;
    if (s.type === "text") {
      out += escapeText(s.value, ctx);
      continue;
    }
    if (!s.modifier) {
      const next = segs[i + 1];
      const needsBraces = next?.type === "text" && /^[A-Za-z0-9_]/.test(next.value);
      out += needsBraces ? `\${${s.name}}` : `$${s.name}`;
      continue;
    }
    if (s.modifier === "/" || s.modifier === "//") {
      out += `\${${s.name}${s.modifier}${fmt(s.word ?? [], 2)}/${fmt(s.replacement ?? [], 3)}}`;
    } else out += `\${${s.name}${s.modifier}${fmt(s.word ?? [], 1)}}`;
  }
  return out;
}

function escapeText(v: string, ctx: 0 | 1 | 2 | 3): string {
  let out = "";
  let from = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    const special = c === 0x5c || c === 0x24 || (ctx !== 0 && c === 0x7d) || (ctx === 2 && c === 0x2f);
    if (special) {
      out += v.slice(from, i) + "\\" + v[i];
      from = i + 1;
    }
  }
  return from === 0 ? v : out + v.slice(from);
}
