/**
 * Templates: the form every string that Docker would expand (FROM refs, COPY paths, ENV and
 * LABEL values, WORKDIR, USER, …) takes in the graph. Build arguments stay symbolic: a template
 * keeps `$NAME` / `${NAME…}` references and is expanded only at build time, when the values of
 * build args and of the base image's environment are known.
 *
 * Syntax (a quote-free subset of the Dockerfile word syntax, so one canonical spelling exists):
 *   $NAME  ${NAME}  ${NAME:-w} ${NAME-w} ${NAME:+w} ${NAME+w} ${NAME:?msg} ${NAME?msg}
 *   ${NAME#p} ${NAME##p} ${NAME%p} ${NAME%%p} ${NAME/p/r} ${NAME//p/r}
 *   \$ is a literal dollar, \\ a literal backslash; everything else is literal text.
 */

import { TemplateError } from "./template-error.ts";
import { replacePatternGo, trimPrefixPattern, trimSuffixPattern } from "./template-pattern.ts";
import { DEFAULT_MAX_WORD_BYTES, overWordLimit, wordTooLong } from "./word-limit.ts";

export { TemplateError };

export type Modifier = ":-" | "-" | ":+" | "+" | ":?" | "?" | "#" | "##" | "%" | "%%" | "/" | "//";

export type Segment =
  | { readonly type: "text"; readonly value: string }
  | { readonly type: "ref"; readonly name: string; readonly modifier?: Modifier; readonly word?: Segment[]; readonly replacement?: Segment[] };


const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

export function parseTemplate(template: string): Segment[] {
  const p = new Parser(template);
  return p.parseUntil(() => false);
}

class Parser {
  pos = 0;
  constructor(readonly src: string) {}

  /** `inWord`: inside `${…}` a backslash also escapes `}` and `/`. */
  parseUntil(stop: (ch: string) => boolean, inWord = false): Segment[] {
    const segs: Segment[] = [];
    let text = "";
    const flush = () => {
      if (text) segs.push({ type: "text", value: text });
      text = "";
    };
    while (this.pos < this.src.length) {
      const ch = this.src[this.pos]!;
      if (stop(ch)) break;
      if (ch === "\\") {
        const next = this.src[this.pos + 1];
        if (next === "$" || next === "\\" || (inWord && (next === "}" || next === "/"))) {
          text += next;
          this.pos += 2;
        } else {
          text += ch;
          this.pos += 1;
        }
        continue;
      }
      if (ch === "$") {
        const ref = this.parseRef();
        if (ref) {
          flush();
          segs.push(ref);
        } else {
          text += "$";
          this.pos += 1;
        }
        continue;
      }
      text += ch;
      this.pos += 1;
    }
    flush();
    return segs;
  }

  private parseRef(): Segment | undefined {
    const s = this.src;
    const start = this.pos;
    const next = s[start + 1];
    if (next !== undefined && NAME_START.test(next)) {
      let end = start + 2;
      while (end < s.length && NAME_CHAR.test(s[end]!)) end++;
      this.pos = end;
      return { type: "ref", name: s.slice(start + 1, end) };
    }
    if (next !== "{") return undefined;
    let i = start + 2;
    if (i >= s.length || !NAME_START.test(s[i]!)) {
      throw new TemplateError("STRATA_TEMPLATE_BAD_REF", `bad substitution at offset ${start} in ${JSON.stringify(s)}`);
    }
    let end = i + 1;
    while (end < s.length && NAME_CHAR.test(s[end]!)) end++;
    const name = s.slice(i, end);
    i = end;
    if (s[i] === "}") {
      this.pos = i + 1;
      return { type: "ref", name };
    }
    const modifier = readModifier(s, i);
    if (!modifier && i >= s.length) {
      throw new TemplateError("STRATA_TEMPLATE_UNCLOSED", `missing '}' after \${${name} in ${JSON.stringify(s)}`);
    }
    if (!modifier) {
      throw new TemplateError("STRATA_TEMPLATE_BAD_REF", `bad substitution \${${name}${s[i] ?? ""}… in ${JSON.stringify(s)}`);
    }
    this.pos = i + modifier.length;
    if (modifier === "/" || modifier === "//") {
      const pattern = this.parseUntil((c) => c === "/" || c === "}", true);
      let replacement: Segment[] = [];
      if (s[this.pos] === "/") {
        this.pos += 1;
        replacement = this.parseUntil((c) => c === "}", true);
      }
      this.expectClose(name);
      return { type: "ref", name, modifier, word: pattern, replacement };
    }
    const word = this.parseUntil((c) => c === "}", true);
    this.expectClose(name);
    return { type: "ref", name, modifier, word };
  }

  private expectClose(name: string): void {
    if (this.src[this.pos] !== "}") {
      throw new TemplateError("STRATA_TEMPLATE_UNCLOSED", `missing '}' after \${${name} in ${JSON.stringify(this.src)}`);
    }
    this.pos += 1;
  }
}

function readModifier(s: string, i: number): Modifier | undefined {
  const two = s.slice(i, i + 2);
  if (two === ":-" || two === ":+" || two === ":?" || two === "##" || two === "%%" || two === "//") return two;
  const one = s[i];
  if (one === "-" || one === "+" || one === "?" || one === "#" || one === "%" || one === "/") return one;
  return undefined;
}

/** Looks a variable up; `undefined` means unset (which differs from empty for `-`, `+`, `?`). */
export type Lookup = (name: string) => string | undefined;

/**
 * Expands a template. The result (and every intermediate part) is bounded by `maxBytes` of
 * UTF-8: the check runs after each segment, so an exponential chain of references fails as
 * soon as it crosses the bound, never after building the whole string.
 */
export function expandTemplate(template: string, lookup: Lookup, maxBytes: number = DEFAULT_MAX_WORD_BYTES): string {
  return expandSegments(parseTemplate(template), lookup, maxBytes);
}

export function expandSegments(segs: readonly Segment[], lookup: Lookup, maxBytes: number = DEFAULT_MAX_WORD_BYTES): string {
  let out = "";
  for (const seg of segs) {
    out += seg.type === "text" ? seg.value : expandRef(seg, lookup, maxBytes);
    if (overWordLimit(out, maxBytes)) throw wordTooLong(maxBytes);
  }
  return out;
}

function expandRef(seg: Extract<Segment, { type: "ref" }>, lookup: Lookup, maxBytes: number): string {
  const value = lookup(seg.name);
  const word = () => expandSegments(seg.word ?? [], lookup, maxBytes);
  switch (seg.modifier) {
    case undefined:
      return value ?? "";
    case ":-":
      return value ? value : word();
    case "-":
      return value === undefined ? word() : value;
    case ":+":
      return value ? word() : "";
    case "+":
      return value === undefined ? "" : word();
    case ":?":
    case "?": {
      const missing = seg.modifier === ":?" ? !value : value === undefined;
      if (missing) {
        const msg = word();
        throw new TemplateError("STRATA_ARG_REQUIRED", `${seg.name}: ${msg || "is not set"}`, { hint: `give ${seg.name} a value (--build-arg ${seg.name}=…)` });
      }
      return value ?? "";
    }
    case "#":
    case "##":
      return trimPrefixPattern(word(), value ?? "", seg.modifier === "##");
    case "%":
    case "%%":
      return trimSuffixPattern(word(), value ?? "", seg.modifier === "%%");
    case "/":
    case "//":
      return replacePatternGo(value ?? "", word(), expandSegments(seg.replacement ?? [], lookup, maxBytes), seg.modifier === "//", maxBytes);
    default:
      throw new TemplateError("STRATA_TEMPLATE_BAD_REF", `unknown modifier in \${${seg.name}…}`);
  }
}

/** Every variable name a template reads, in first-use order (nested words included). */
export function templateRefs(template: string): string[] {
  const names = new Set<string>();
  const walk = (segs: readonly Segment[]) => {
    for (const s of segs) {
      if (s.type !== "ref") continue;
      names.add(s.name);
      if (s.word) walk(s.word);
      if (s.replacement) walk(s.replacement);
    }
  };
  walk(parseTemplate(template));
  return [...names];
}

/** A template whose expansion is exactly `text` (no references). */
export function literalTemplate(text: string): string {
  return text.replace(/[\\$]/g, (c) => `\\${c}`);
}

/** The literal value of a template without references, or undefined if it has any. */
export function templateLiteralValue(template: string): string | undefined {
  const segs = parseTemplate(template);
  if (segs.some((s) => s.type === "ref")) return undefined;
  return segs.map((s) => (s as { value: string }).value).join("");
}

/**
 * Converts a string written in TypeScript (where `$NAME` / `${NAME}` mean a build arg or an
 * environment variable and `\$` a literal dollar, and backslashes are otherwise literal) to
 * its canonical template. Canonical means: one spelling per meaning, so equal images hash equal.
 */
export function templateFromUser(text: string): string {
  return formatSegments(parseTemplate(text));
}

/**
 * Prints segments in canonical form: literal `\` and `$` escaped (and, inside `${…}` words,
 * `}`; inside `/` patterns, `/`), refs in `${…}` form only where a name character follows.
 */
export function formatSegments(segs: readonly Segment[]): string {
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
    if (s.modifier === "/" || s.modifier === "//") out += `\${${s.name}${s.modifier}${fmt(s.word ?? [], 2)}/${fmt(s.replacement ?? [], 3)}}`;
    else out += `\${${s.name}${s.modifier}${fmt(s.word ?? [], 1)}}`;
  }
  return out;
}

function escapeText(v: string, ctx: 0 | 1 | 2 | 3): string {
  let out = "";
  for (const c of v) {
    const special = c === "\\" || c === "$" || (ctx !== 0 && c === "}") || (ctx === 2 && c === "/");
    out += special ? `\\${c}` : c;
  }
  return out;
}
