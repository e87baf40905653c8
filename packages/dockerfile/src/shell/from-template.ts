/**
 * Template → Dockerfile word (for the exporter): the shortest plain spelling, quoted only
 * where needed, such that `toTemplate(fromTemplate(t)) === canonical(t)`.
 */
import { parseTemplate, type Segment } from "@strata/graph";
import { ShellError } from "./errors.ts";

export interface FromTemplateOptions {
  readonly escapeToken?: string;
}

export function fromTemplate(template: string, opts: FromTemplateOptions = {}): string {
  const esc = opts.escapeToken ?? "\\";
  let segs: Segment[];
  try {
    segs = parseTemplate(template);
  } catch (e) {
    throw new ShellError("DF_TEMPLATE_INVALID", e instanceof Error ? e.message : String(e));
  }
  if (segs.length === 0) return '""';
  const needsQuotes = segs.some((s) => s.type === "text" && /[\s'"]/u.test(s.value));
  if (needsQuotes) {
    let out = '"';
    for (let i = 0; i < segs.length; i++) out += segWord(segs, i, esc, "dq");
    return `${out}"`;
  }
  let out = "";
  for (let i = 0; i < segs.length; i++) out += segWord(segs, i, esc, "plain");
  return out;
}

type Ctx = "plain" | "dq" | "word" | "pattern" | "replacement";

function segWord(segs: readonly Segment[], i: number, esc: string, ctx: Ctx): string {
  const s = segs[i]!;
  if (s.type === "text") return escapeText(s.value, esc, ctx);
  if (!s.modifier) {
    const next = segs[i + 1];
    // Braces when the next character could continue the name (Go's IsLetter/IsDigit are wider than ASCII).
    const needsBraces = next?.type === "text" && /^[\p{L}\p{Nd}_]/u.test(next.value);
    return needsBraces ? `\${${s.name}}` : `$${s.name}`;
  }
  const m = s.modifier;
  if (m === "#" || m === "##" || m === "%" || m === "%%") {
    return `\${${s.name}${m}${list(s.word ?? [], esc, "pattern")}}`;
  }
  if (m === "/" || m === "//") {
    return `\${${s.name}${m}${list(s.word ?? [], esc, "pattern")}/${list(s.replacement ?? [], esc, "replacement")}}`;
  }
  return `\${${s.name}${m}${list(s.word ?? [], esc, "word")}}`;
}

function list(segs: readonly Segment[], esc: string, ctx: Ctx): string {
  let out = "";
  for (let i = 0; i < segs.length; i++) out += segWord(segs, i, esc, ctx);
  return out;
}

function escapeText(v: string, esc: string, ctx: Ctx): string {
  let out = "";
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    switch (ctx) {
      case "plain":
        out += c === "$" || c === esc || c === "'" || c === '"' ? esc + c : c;
        break;
      case "dq":
        out += c === "$" || c === esc || c === '"' ? esc + c : c;
        break;
      case "word":
        // Whitespace too: ENV/LABEL split their words before expanding them.
        out += c === "$" || c === esc || c === "'" || c === '"' || c === "}" || /\s/u.test(c) ? esc + c : c;
        break;
      case "pattern": {
        // Graph glob → BuildKit's dialect: `\x` pairs of the glob, `[` classes have no equivalent.
        if (c === "\\") {
          const n = v[i + 1];
          i++;
          if (n === "*" || n === "?" || n === "\\") out += `\\${n}`;
          else if (n === "}" || n === "/") out += esc === "\\" ? `\\${n}` : cannot(`'${n}' in a pattern with the backtick escape`);
          else if (n === "[" || n === "]") out += n;
          else if (n === "$" || n === "'" || n === '"') cannot(`'${n}' in a pattern`);
          else if (n === undefined) cannot("a trailing backslash in a pattern");
          else out += n;
          break;
        }
        if (c === "[") cannot("a bracket expression in a pattern");
        if (c === "*" || c === "?") out += c;
        else if (c === "}" || c === "/") out += esc === "\\" ? `\\${c}` : cannot(`'${c}' in a pattern with the backtick escape`);
        else if (c === "$" || c === "'" || c === '"' || c === esc) cannot(`'${c}' in a pattern`);
        else out += c;
        break;
      }
      case "replacement":
        if (c === "}" || c === "$" || c === "'" || c === '"' || c === esc) cannot(`'${c}' in a replacement`);
        out += c;
        break;
    }
  }
  return out;
}

function cannot(what: string): never {
  throw new ShellError("DF_TEMPLATE_UNREPRESENTABLE", `${what} cannot be written as a Dockerfile word`);
}
