/**
 * Shell-word processing as BuildKit's `frontend/dockerfile/shell/lex.go` does it: quotes,
 * escapes, `$VAR` / `${VAR…}` expansion and the split into words that happens *after*
 * expansion. The behaviour (including its quirks) follows BuildKit, not POSIX sh:
 * - inside double quotes only `"`, `$` and the escape token can be escaped;
 * - `${VAR:#…}` / `${VAR:%…}` are errors, `${VAR/p/r}` needs the second `/`;
 * - patterns (`#`, `%`, `/`) keep their escapes raw and only know `*`, `?` and `\`;
 * - ProcessWords drops the part of a word typed before a `${VAR<modifier>…}` (BuildKit's
 *   shared words buffer is reset by the nested scan), which we reproduce.
 */
import { isGoSpace, nameEnd } from "./chars.ts";
import { DEFAULT_MAX_WORD_BYTES, overWordLimit } from "@strata/graph";
import { ShellError } from "./errors.ts";
import { trimPrefixPattern, trimSuffixPattern, replacePatternGo } from "./pattern.ts";

export { ShellError };

export type Env = Readonly<Record<string, string>> | ((name: string) => string | undefined);

export interface LexOptions {
  /** `\` (default) or `` ` `` — set by the `# escape=` directive. */
  readonly escapeToken?: string;
  /** Keep quote characters in the output (BuildKit's RawQuotes; used for heredoc detection). */
  readonly rawQuotes?: boolean;
  /** Keep escape characters in the output (RawEscapes). */
  readonly rawEscapes?: boolean;
  /** Leave references to unset variables as written (SkipUnsetEnv). */
  readonly skipUnsetEnv?: boolean;
  /** The bound on the expanded word, in bytes of UTF-8 (default: the graph's DEFAULT_MAX_WORD_BYTES, 1 MiB). */
  readonly maxWordBytes?: number;
}

export interface ProcessResult {
  readonly result: string;
  readonly words: string[];
  /** Names that were looked up and found / not found (for the UndefinedVar check). */
  readonly matched: Set<string>;
  readonly unmatched: Set<string>;
}

const EOF = -1;
/** The characters isGoSpace accepts (unicode.IsSpace), for a fast scan of expanded values. */
const GO_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
const EMPTY_SET: Set<string> = new Set();

/** Expands one word (BuildKit's ProcessWord): quotes removed, variables substituted, no split. */
export function expandWord(text: string, env: Env, opts: LexOptions = {}): string {
  return processShellWord(text, env, opts).result;
}

/** Expands and splits (BuildKit's ProcessWords): the split happens after substitution. */
export function expandWords(text: string, env: Env, opts: LexOptions = {}): string[] {
  return processShellWord(text, env, opts).words;
}

export function processShellWord(text: string, env: Env, opts: LexOptions = {}): ProcessResult {
  const sw = new ShellWord(text, env, opts);
  try {
    const [result, words] = sw.processStopOn(EOF, sw.rawEscapes);
    // One word at most doubles the longest value it reads: checking each result bounds a
    // chain of ARGs reading each other long before it could exhaust memory.
    const max = opts.maxWordBytes ?? DEFAULT_MAX_WORD_BYTES;
    if (overWordLimit(result, max)) throw new ShellError("STRATA_WORD_TOO_LONG", `the word expands to more than ${max} bytes`);
    return { result, words, matched: sw.matched, unmatched: sw.unmatched };
  } catch (e) {
    if (e instanceof ShellError) throw new ShellError(e.code, `failed to process ${goQuoteLite(text)}: ${e.message}`);
    throw e;
  }
}

function goQuoteLite(s: string): string {
  return JSON.stringify(s);
}

class Words {
  words: string[] = [];
  inWord = false;
  constructor(readonly sw: ShellWord) {}
  addChar(ch: string, cp: number): void {
    if (isGoSpace(cp)) {
      if (this.inWord && this.sw.wordsBuf.length !== 0) {
        this.words.push(this.sw.wordsBuf);
        this.sw.wordsBuf = "";
        this.inWord = false;
      }
    } else this.addRawChar(ch);
  }
  addRawChar(ch: string): void {
    this.sw.wordsBuf += ch;
    this.inWord = true;
  }
  addString(str: string): void {
    // A value without white space is one raw run: appending it char by char made long values quadratic-ish.
    if (!GO_SPACE.test(str)) {
      if (str.length) this.addRawString(str);
      return;
    }
    for (const ch of str) this.addChar(ch, ch.codePointAt(0)!);
  }
  addRawString(str: string): void {
    this.sw.wordsBuf += str;
    this.inWord = true;
  }
  getWords(): string[] {
    if (this.sw.wordsBuf.length > 0) {
      this.words.push(this.sw.wordsBuf);
      this.sw.wordsBuf = "";
      this.inWord = false;
    }
    return this.words;
  }
}

class ShellWord {
  pos = 0;
  readonly escape: number;
  readonly rawQuotes: boolean;
  rawEscapes: boolean;
  readonly skipUnsetEnv: boolean;
  /** Shared between nested scans on purpose (see the module comment). */
  wordsBuf = "";
  /** Allocated on first use: most words look nothing up. */
  matched: Set<string> = EMPTY_SET;
  unmatched: Set<string> = EMPTY_SET;
  private readonly lookup: (name: string) => string | undefined;

  constructor(
    readonly src: string,
    env: Env,
    opts: LexOptions,
  ) {
    this.escape = (opts.escapeToken ?? "\\").charCodeAt(0);
    this.rawQuotes = opts.rawQuotes ?? false;
    this.rawEscapes = opts.rawEscapes ?? false;
    this.skipUnsetEnv = opts.skipUnsetEnv ?? false;
    this.lookup =
      typeof env === "function" ? env : (name) => (Object.hasOwn(env, name) ? env[name] : undefined);
    // Go's text/scanner skips a byte-order mark at the start of its input.
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

  getEnv(name: string): string | undefined {
    const v = this.lookup(name);
    if (v === undefined) {
      if (this.unmatched === EMPTY_SET) this.unmatched = new Set();
      this.unmatched.add(name);
    } else {
      if (this.matched === EMPTY_SET) this.matched = new Set();
      this.matched.add(name);
    }
    return v;
  }

  processStopOn(stop: number, rawEscapes: boolean): [string, string[]] {
    let result = "";
    this.wordsBuf = "";
    const words = new Words(this);
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      const src = this.src;
      while (this.pos < src.length) {
        const ch = src.charCodeAt(this.pos);
        if (stop !== EOF && ch === stop) {
          this.pos++;
          return [result, words.getWords()];
        }
        if (ch === 0x27 /* ' */) {
          const tmp = this.processSingleQuote();
          result += tmp;
          words.addRawString(tmp);
          continue;
        }
        if (ch === 0x22 /* " */) {
          const tmp = this.processDoubleQuote();
          result += tmp;
          words.addRawString(tmp);
          continue;
        }
        if (ch === 0x24 /* $ */) {
          const tmp = this.processDollar();
          result += tmp;
          words.addString(tmp);
          continue;
        }
        // A run of plain characters: copy it in one slice (the common case).
        if (ch !== this.escape && !isGoSpace(ch) && (ch < 0xd800 || ch > 0xdfff)) {
          const start = this.pos;
          let i = start + 1;
          for (; i < src.length; i++) {
            const c = src.charCodeAt(i);
            if (c === 0x27 || c === 0x22 || c === 0x24 || c === this.escape || c === stop || isGoSpace(c) || (c >= 0xd800 && c <= 0xdfff)) break;
          }
          const run = src.slice(start, i);
          this.pos = i;
          result += run;
          words.addRawString(run);
          continue;
        }
        let cp = this.next();
        if (cp === this.escape) {
          if (this.rawEscapes) {
            const e = String.fromCodePoint(cp);
            words.addRawChar(e);
            result += e;
          }
          cp = this.next();
          if (cp === EOF) break;
          const s = String.fromCodePoint(cp);
          words.addRawChar(s);
          result += s;
          continue;
        }
        const s = cp > 0xffff ? String.fromCodePoint(cp) : src[this.pos - 1]!;
        words.addChar(s, cp);
        result += s;
      }
      if (stop !== EOF) {
        throw new ShellError("DF_SHELL_UNTERMINATED", `unexpected end of statement while looking for matching ${String.fromCodePoint(stop)}`);
      }
      return [result, words.getWords()];
    } finally {
      this.rawEscapes = saved;
    }
  }

  processSingleQuote(): string {
    const start = this.pos;
    this.pos++;
    const end = this.src.indexOf("'", this.pos);
    if (end < 0) {
      this.pos = this.src.length;
      throw new ShellError("DF_SHELL_UNTERMINATED", "unexpected end of statement while looking for matching single-quote");
    }
    this.pos = end + 1;
    return this.rawQuotes ? this.src.slice(start, end + 1) : this.src.slice(start + 1, end);
  }

  processDoubleQuote(): string {
    let result = this.rawQuotes ? '"' : "";
    this.pos++;
    for (;;) {
      const p = this.peek();
      if (p === EOF) throw new ShellError("DF_SHELL_UNTERMINATED", "unexpected end of statement while looking for matching double-quote");
      if (p === 0x22) {
        this.pos++;
        if (this.rawQuotes) result += '"';
        return result;
      }
      if (p === 0x24) {
        result += this.processDollar();
        continue;
      }
      let ch = this.next();
      if (ch === this.escape) {
        if (this.rawEscapes) result += String.fromCodePoint(ch);
        const q = this.peek();
        if (q === EOF) continue;
        if (q === 0x22 || q === 0x24 || q === this.escape) ch = this.next();
      }
      result += String.fromCodePoint(ch);
    }
  }

  processDollar(): string {
    this.pos++; // '$'
    if (this.peek() !== 0x7b /* { */) {
      const name = this.processName();
      if (name === "") return "$";
      const value = this.getEnv(name);
      if (value === undefined && this.skipUnsetEnv) return `$${name}`;
      return value ?? "";
    }
    this.pos++; // '{'
    const p = this.peek();
    if (p === EOF) throw new ShellError("DF_SHELL_BAD_SUBST", "syntax error: missing '}'");
    if (p === 0x7b || p === 0x7d || p === 0x3a) throw new ShellError("DF_SHELL_BAD_SUBST", "syntax error: bad substitution");
    const name = this.processName();
    let ch = this.next();
    let chs = ch === EOF ? "\ufffd" : String.fromCodePoint(ch);
    let nullIsUnset = false;
    switch (ch) {
      case 0x7d: {
        const value = this.getEnv(name);
        if (value === undefined && this.skipUnsetEnv) return `\${${name}}`;
        return value ?? "";
      }
      case 0x3a /* : */:
      case 0x2b /* + */:
      case 0x2d /* - */:
      case 0x3f /* ? */:
      case 0x23 /* # */:
      case 0x25 /* % */: {
        if (ch === 0x3a) {
          nullIsUnset = true;
          ch = this.next();
          chs += ch === EOF ? "\ufffd" : String.fromCodePoint(ch);
        }
        const raw = ch === 0x23 || ch === 0x25;
        if (nullIsUnset && raw) throw new ShellError("DF_SHELL_BAD_MODIFIER", `unsupported modifier (${chs}) in substitution`);
        let word: string;
        try {
          word = this.processStopOn(0x7d, raw)[0];
        } catch (e) {
          if (this.peek() === EOF) throw new ShellError("DF_SHELL_BAD_SUBST", "syntax error: missing '}'");
          throw e;
        }
        const value = this.getEnv(name);
        if (this.skipUnsetEnv && value === undefined) return `\${${name}${chs}${word}}`;
        switch (ch) {
          case 0x2d:
            return value === undefined || (nullIsUnset && value === "") ? word : value;
          case 0x2b:
            return value === undefined || (nullIsUnset && value === "") ? "" : word;
          case 0x3f:
            if (value === undefined) throw new ShellError("DF_SHELL_REQUIRED", `${name}: ${word || "is not allowed to be unset"}`);
            if (nullIsUnset && value === "") throw new ShellError("DF_SHELL_REQUIRED", `${name}: ${word || "is not allowed to be empty"}`);
            return value;
          case 0x23:
          case 0x25: {
            let greedy = false;
            if (word.length > 0 && word.charCodeAt(0) === ch) {
              greedy = true;
              word = word.slice(1);
            }
            return ch === 0x25 ? trimSuffixPattern(word, value ?? "", greedy) : trimPrefixPattern(word, value ?? "", greedy);
          }
          default:
            throw new ShellError("DF_SHELL_BAD_MODIFIER", `unsupported modifier (${chs}) in substitution`);
        }
      }
      case 0x2f /* / */: {
        const all = this.peek() === 0x2f;
        if (all) this.pos++;
        let pattern: string;
        try {
          pattern = this.processStopOn(0x2f, true)[0];
        } catch (e) {
          if (this.peek() === EOF) throw new ShellError("DF_SHELL_BAD_SUBST", "syntax error: missing '/' in ${}");
          throw e;
        }
        let replacement: string;
        try {
          replacement = this.processStopOn(0x7d, true)[0];
        } catch (e) {
          if (this.peek() === EOF) throw new ShellError("DF_SHELL_BAD_SUBST", "syntax error: missing '}'");
          throw e;
        }
        const value = this.getEnv(name);
        if (this.skipUnsetEnv && value === undefined) return `\${${name}/${pattern}/${replacement}}`;
        return replacePatternGo(value ?? "", pattern, replacement, all);
      }
      default:
        throw new ShellError("DF_SHELL_BAD_MODIFIER", `unsupported modifier (${chs}) in substitution`);
    }
  }

  processName(): string {
    const start = this.pos;
    this.pos = nameEnd(this.src, start);
    return this.src.slice(start, this.pos);
  }
}

