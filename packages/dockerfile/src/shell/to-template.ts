/**
 * Dockerfile word → the graph's canonical template (`packages/graph/src/template.ts`).
 *
 * The walk mirrors `lex.ts` step for step, but instead of looking variables up it keeps them
 * as `ref` segments, so `expandTemplate(toTemplate(w), env) === expandWord(w, env)`.
 * Where BuildKit's semantics cannot be written as a template (special parameters such as
 * `$1`, a `//` replacement using `$`, an empty `/` pattern, …) `toTemplate` throws a
 * `ShellError` with code `DF_TEMPLATE_UNREPRESENTABLE` instead of guessing.
 */
import type { Modifier, Segment } from "@strata/graph";
import { isGoDigit, isGoSpace, isSpecialParam, nameEnd } from "./chars.ts";
import { ShellError } from "./errors.ts";
import { formatTemplate } from "./format-template.ts";

export interface TemplateOptions {
  readonly escapeToken?: string;
}

const EOF = -1;
const GRAPH_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** One word as a canonical template (ProcessWord: quotes and escapes resolved, no split). */
export function toTemplate(text: string, opts: TemplateOptions = {}): string {
  const w = new TemplateWalker(text, opts.escapeToken ?? "\\");
  return formatTemplate(w.top(false)[0]!);
}

/** The words (ProcessWords), each as a template. Values of variables are never split here. */
export function toTemplates(text: string, opts: TemplateOptions = {}): string[] {
  const w = new TemplateWalker(text, opts.escapeToken ?? "\\");
  return w.top(true).map((segs) => formatTemplate(segs));
}

/** Segments accumulate here; adjacent text merges. */
class Seg {
  segs: Segment[] = [];
  text = "";
  addText(s: string): void {
    this.text += s;
  }
  addRef(r: Segment): void {
    this.flush();
    this.segs.push(r);
  }
  addAll(other: Segment[]): void {
    for (const s of other) {
      if (s.type === "text") this.text += s.value;
      else this.addRef(s);
    }
  }
  flush(): void {
    if (this.text) this.segs.push({ type: "text", value: this.text });
    this.text = "";
  }
  done(): Segment[] {
    this.flush();
    return this.segs;
  }
  get empty(): boolean {
    return this.text === "" && this.segs.length === 0;
  }
  clear(): void {
    this.segs = [];
    this.text = "";
  }
}

class TemplateWalker {
  pos = 0;
  readonly escape: number;
  /** The word being built by the top-level scan (cleared like BuildKit's shared buffer). */
  private current: Seg | undefined;
  private splitMode = false;

  constructor(
    readonly src: string,
    escapeToken: string,
  ) {
    this.escape = escapeToken.charCodeAt(0);
    if (src.charCodeAt(0) === 0xfeff) this.pos = 1;
  }

  peek(): number {
    return this.pos < this.src.length ? this.src.codePointAt(this.pos)! : EOF;
  }
  next(): number {
    if (this.pos >= this.src.length) return EOF;
    const cp = this.src.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  /** The top-level scan; `split` → one segment list per word, else exactly one list. */
  top(split: boolean): Segment[][] {
    const words: Segment[][] = [];
    this.splitMode = split;
    let cur = new Seg();
    this.current = cur;
    let inWord = false;
    while (this.pos < this.src.length) {
      const ch = this.src.charCodeAt(this.pos);
      if (ch === 0x27) {
        cur.addText(this.singleQuote());
        inWord = true;
        continue;
      }
      if (ch === 0x22) {
        const q = this.doubleQuote();
        cur = this.current!;
        cur.addAll(q);
        inWord = true;
        continue;
      }
      if (ch === 0x24) {
        const r = this.dollar();
        cur = this.current!;
        if (typeof r === "string") {
          // A literal "$" (or the empty value of a special parameter): split like text.
          for (const c of r) {
            if (split && isGoSpace(c.codePointAt(0)!)) {
              if (inWord && !cur.empty) {
                words.push(cur.done());
                cur = this.current = new Seg();
                inWord = false;
              }
            } else {
              cur.addText(c);
              inWord = true;
            }
          }
        } else {
          cur.addRef(r);
          inWord = true;
        }
        continue;
      }
      let cp = this.next();
      if (cp === this.escape) {
        cp = this.next();
        if (cp === EOF) break;
        cur.addText(String.fromCodePoint(cp));
        inWord = true;
        continue;
      }
      if (split && isGoSpace(cp)) {
        if (inWord && !cur.empty) {
          words.push(cur.done());
          cur = this.current = new Seg();
          inWord = false;
        }
        continue;
      }
      if (!split || !isGoSpace(cp)) {
        cur.addText(String.fromCodePoint(cp));
        inWord = true;
      }
    }
    if (!split) return [cur.done()];
    if (!cur.empty) words.push(cur.done());
    return words;
  }

  /** A nested scan up to `stop` (the word of a `${…}`); `raw` keeps escapes (patterns). */
  stopOn(stop: number, raw: boolean): Segment[] {
    // BuildKit's nested scan resets the shared word buffer of ProcessWords.
    if (this.splitMode) this.current?.clear();
    const out = new Seg();
    while (this.pos < this.src.length) {
      const ch = this.src.charCodeAt(this.pos);
      if (ch === stop) {
        this.pos++;
        return out.done();
      }
      if (ch === 0x27) {
        out.addText(this.singleQuote());
        continue;
      }
      if (ch === 0x22) {
        out.addAll(this.doubleQuote(raw));
        continue;
      }
      if (ch === 0x24) {
        const r = this.dollar();
        if (typeof r === "string") out.addText(r);
        else out.addRef(r);
        continue;
      }
      let cp = this.next();
      if (cp === this.escape) {
        if (raw) out.addText(String.fromCodePoint(cp));
        cp = this.next();
        if (cp === EOF) break;
      }
      out.addText(String.fromCodePoint(cp));
    }
    throw new ShellError("DF_SHELL_UNTERMINATED", `unexpected end of statement while looking for matching ${String.fromCodePoint(stop)}`);
  }

  singleQuote(): string {
    this.pos++;
    const end = this.src.indexOf("'", this.pos);
    if (end < 0) throw new ShellError("DF_SHELL_UNTERMINATED", "unexpected end of statement while looking for matching single-quote");
    const s = this.src.slice(this.pos, end);
    this.pos = end + 1;
    return s;
  }

  doubleQuote(raw = false): Segment[] {
    const out = new Seg();
    this.pos++;
    for (;;) {
      const p = this.peek();
      if (p === EOF) throw new ShellError("DF_SHELL_UNTERMINATED", "unexpected end of statement while looking for matching double-quote");
      if (p === 0x22) {
        this.pos++;
        return out.done();
      }
      if (p === 0x24) {
        const r = this.dollar();
        if (typeof r === "string") out.addText(r);
        else out.addRef(r);
        continue;
      }
      let ch = this.next();
      if (ch === this.escape) {
        if (raw) out.addText(String.fromCodePoint(ch));
        const q = this.peek();
        if (q === EOF) continue;
        if (q === 0x22 || q === 0x24 || q === this.escape) ch = this.next();
      }
      out.addText(String.fromCodePoint(ch));
    }
  }

  /** `$…` → a ref segment, or a string when it is literal text. */
  dollar(): Segment | string {
    this.pos++;
    if (this.peek() !== 0x7b) {
      const name = this.name();
      if (name === "") return "$";
      return this.refFor(name);
    }
    this.pos++;
    const p = this.peek();
    if (p === EOF) throw new ShellError("DF_SHELL_BAD_SUBST", "syntax error: missing '}'");
    if (p === 0x7b || p === 0x7d || p === 0x3a) throw new ShellError("DF_SHELL_BAD_SUBST", "syntax error: bad substitution");
    const name = this.name();
    let ch = this.next();
    let chs = ch === EOF ? "\ufffd" : String.fromCodePoint(ch);
    if (ch === 0x7d) return this.refFor(name);
    let nullIsUnset = false;
    if (ch === 0x3a || ch === 0x2b || ch === 0x2d || ch === 0x3f || ch === 0x23 || ch === 0x25) {
      if (ch === 0x3a) {
        nullIsUnset = true;
        ch = this.next();
        chs += ch === EOF ? "\ufffd" : String.fromCodePoint(ch);
      }
      const raw = ch === 0x23 || ch === 0x25;
      if (nullIsUnset && raw) throw new ShellError("DF_SHELL_BAD_MODIFIER", `unsupported modifier (${chs}) in substitution`);
      let word: Segment[];
      try {
        word = this.stopOn(0x7d, raw);
      } catch (e) {
        if (this.peek() === EOF) throw new ShellError("DF_SHELL_BAD_SUBST", "syntax error: missing '}'");
        throw e;
      }
      if (ch !== 0x2d && ch !== 0x2b && ch !== 0x3f && !raw) {
        throw new ShellError("DF_SHELL_BAD_MODIFIER", `unsupported modifier (${chs}) in substitution`);
      }
      const graphName = this.graphName(name);
      if (graphName === undefined) return specialValue(ch, nullIsUnset, word);
      if (raw) {
        let modifier: Modifier = ch === 0x23 ? "#" : "%";
        const first = word[0];
        if (first?.type === "text" && first.value.charCodeAt(0) === ch) {
          modifier = ch === 0x23 ? "##" : "%%";
          word = first.value.length > 1 ? [{ type: "text", value: first.value.slice(1) }, ...word.slice(1)] : word.slice(1);
        }
        return { type: "ref", name: graphName, modifier, word: patternToGraph(word) };
      }
      const modifier = (nullIsUnset ? ":" : "") + chs.slice(nullIsUnset ? 1 : 0);
      return { type: "ref", name: graphName, modifier: modifier as Modifier, word };
    }
    if (ch === 0x2f) {
      const all = this.peek() === 0x2f;
      if (all) this.pos++;
      let pattern: Segment[];
      let replacement: Segment[];
      try {
        pattern = this.stopOn(0x2f, true);
      } catch (e) {
        if (this.peek() === EOF) throw new ShellError("DF_SHELL_BAD_SUBST", "syntax error: missing '/' in ${}");
        throw e;
      }
      try {
        replacement = this.stopOn(0x7d, true);
      } catch (e) {
        if (this.peek() === EOF) throw new ShellError("DF_SHELL_BAD_SUBST", "syntax error: missing '}'");
        throw e;
      }
      const graphName = this.graphName(name);
      if (graphName === undefined) return "";
      if (pattern.length === 0) unrepresentable("an empty pattern in ${VAR/pattern/replacement}");
      // Go skips an empty match right after a match; the graph's JS replace does not.
      if (all && pattern.every((s) => s.type === "ref" || /^\**$/.test(s.value))) {
        unrepresentable("a pattern that can match the empty string in ${VAR//pattern/replacement}");
      }
      if (all && replacement.some((s) => s.type === "text" && s.value.includes("$"))) {
        unrepresentable("'$' in the replacement of ${VAR//pattern/replacement}");
      }
      return { type: "ref", name: graphName, modifier: all ? "//" : "/", word: patternToGraph(pattern), replacement };
    }
    throw new ShellError("DF_SHELL_BAD_MODIFIER", `unsupported modifier (${chs}) in substitution`);
  }

  /** A plain reference; special parameters and digits are never set in a build, so they expand to "". */
  private refFor(name: string): Segment | string {
    const g = this.graphName(name);
    return g === undefined ? "" : { type: "ref", name: g };
  }

  private graphName(name: string): string | undefined {
    if (GRAPH_NAME.test(name)) return name;
    const c = name.codePointAt(0)!;
    if (isGoDigit(c) || isSpecialParam(c)) return undefined;
    return unrepresentable(`the variable name ${JSON.stringify(name)}`);
  }

  name(): string {
    const start = this.pos;
    this.pos = nameEnd(this.src, start);
    return this.src.slice(start, this.pos);
  }
}

/** `${1:-w}` and friends: the parameter is never set, so the result is static. */
function specialValue(ch: number, nullIsUnset: boolean, word: Segment[]): string | Segment {
  void nullIsUnset;
  if (ch === 0x2d) {
    if (word.some((s) => s.type === "ref")) unrepresentable("a default word with references on a special parameter");
    return word.map((s) => (s as { value: string }).value).join("");
  }
  if (ch === 0x3f) unrepresentable("${N?…} on a special parameter (always an error)");
  return "";
}

/**
 * BuildKit's pattern dialect (raw text: `\*`, `\?`, `\\` escapes; `\}` / `\/` lose the
 * backslash; `[` is literal) → the graph's glob dialect (`\x` is literal x, `[…]` a class).
 */
function patternToGraph(segs: Segment[]): Segment[] {
  return segs.map((s) => {
    if (s.type !== "text") return s;
    let out = "";
    const v = s.value;
    for (let i = 0; i < v.length; i++) {
      const c = v[i]!;
      if (c === "\\") {
        const n = v[i + 1];
        if (n === "}" || n === "/") continue;
        if (n === "*" || n === "?" || n === "\\") {
          out += `\\${n}`;
          i++;
          continue;
        }
        if (n === undefined) unrepresentable("a pattern ending in a backslash");
        throw new ShellError("DF_SHELL_BAD_PATTERN", `invalid pattern (${v}) in substitution: invalid escape '\\${n}'`);
      }
      out += c === "[" ? "\\[" : c;
    }
    return { type: "text", value: out };
  });
}

function unrepresentable(what: string): never {
  throw new ShellError("DF_TEMPLATE_UNREPRESENTABLE", `${what} cannot be written as a Strata template`);
}

