/**
 * The raw parse (BuildKit's `parser.Parse`): physical lines → logical instructions
 * (directives, BOM, comments, line continuations, heredoc bodies) → a raw node per
 * instruction. Unlike BuildKit it never stops at the first error: a bad instruction becomes
 * a diagnostic and parsing goes on with the next one.
 */
import { processShellWord } from "../shell/lex.ts";
import { goTrimSpace, isGoSpace } from "../shell/chars.ts";
import {
  LineError,
  leaf,
  parseHealthConfig,
  parseMaybeJSON,
  parseMaybeJSONToList,
  parseNameOrNameVal,
  parseNameVal,
  parseString,
  parseStringsWhitespaceDelimited,
  splitCommand,
  type LineResult,
  type MutableNode,
} from "./line-parsers.ts";
import type { Comment, Directive, DockerfileDiagnostic, Heredoc, Span } from "./types.ts";

export interface RawInstruction {
  readonly node: MutableNode;
  readonly comments: Comment[];
  readonly span: Span;
  /** Source offsets [start, end) of the instruction's text (heredoc bodies included). */
  readonly startOffset: number;
  readonly endOffset: number;
  /** Column (1-based) where the keyword starts on its first line. */
  readonly column: number;
  /** ENV/LABEL: whether BuildKit's legacy `KEY value` form was used. */
  readonly legacy: boolean;
}

export interface RawParse {
  readonly instructions: RawInstruction[];
  readonly directives: Directive[];
  readonly escapeToken: "\\" | "`";
  readonly diagnostics: DockerfileDiagnostic[];
  readonly trailingComments: Comment[];
  /** The text as parsed (BOM removed from the first line). */
  readonly text: string;
  readonly lineStarts: number[];
}

const VALID_DIRECTIVES = new Set(["syntax", "escape", "check"]);
const HEREDOC_DIRECTIVES = new Set(["add", "copy", "run"]);

export function span(line: number, column: number, endLine: number, endColumn: number): Span {
  return { start: { line, column }, end: { line: endLine, column: endColumn } };
}

/** `[\t\n\f\r ]` — RE2's `\s`. */
function isRe2Space(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d;
}

/** `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` by hand (no backtracking). */
function matchDirective(line: string): { key: string; value: string; keyStart: number } | undefined {
  if (line.charCodeAt(0) !== 0x23) return undefined;
  let i = 1;
  while (i < line.length && isRe2Space(line.charCodeAt(i))) i++;
  const keyStart = i;
  const c0 = line.charCodeAt(i);
  if (!((c0 >= 65 && c0 <= 90) || (c0 >= 97 && c0 <= 122))) return undefined;
  i++;
  for (;;) {
    const c = line.charCodeAt(i);
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57)) i++;
    else break;
  }
  const key = line.slice(keyStart, i);
  while (i < line.length && isRe2Space(line.charCodeAt(i))) i++;
  if (line.charCodeAt(i) !== 0x3d) return undefined;
  i++;
  while (i < line.length && isRe2Space(line.charCodeAt(i))) i++;
  let end = line.length;
  while (end > i && isRe2Space(line.charCodeAt(end - 1))) end--;
  if (end <= i) return undefined;
  const value = line.slice(i, end);
  if (value.includes("\n")) return undefined;
  return { key, value, keyStart };
}

/** Strips trailing `\r` and `\n` (BuildKit's trimNewline). */
function trimNewline(s: string): string {
  let e = s.length;
  while (e > 0) {
    const c = s.charCodeAt(e - 1);
    if (c === 0x0a || c === 0x0d) e--;
    else break;
  }
  return e === s.length ? s : s.slice(0, e);
}

function leftSpaceCount(s: string): number {
  let i = 0;
  while (i < s.length && isGoSpace(s.charCodeAt(i))) i++;
  return i;
}

function isComment(line: string): boolean {
  const t = trimNewline(line);
  return t.charCodeAt(leftSpaceCount(t)) === 0x23;
}

/**
 * The continuation rule: the last non-[ \t] character is the escape token and it is either
 * the first character or not itself preceded by the escape token.
 */
function trimContinuation(line: string, esc: number): [string, boolean] {
  let e = line.length;
  while (e > 0) {
    const c = line.charCodeAt(e - 1);
    if (c === 0x20 || c === 0x09) e--;
    else break;
  }
  if (e === 0 || line.charCodeAt(e - 1) !== esc) return [line, true];
  if (e === 1) return ["", false];
  if (line.charCodeAt(e - 2) === esc) return [line, true];
  return [line.slice(0, e - 1), false];
}

export function rawParse(input: string): RawParse {
  let text = input;
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lineStarts: number[] = [];
  const lines: string[] = [];
  for (let p = 0; p < text.length; ) {
    lineStarts.push(p);
    const nl = text.indexOf("\n", p);
    const end = nl < 0 ? text.length : nl + 1;
    lines.push(text.slice(p, end));
    p = end;
  }
  const diagnostics: DockerfileDiagnostic[] = [];
  const directives: Directive[] = [];
  const instructions: RawInstruction[] = [];
  const seen = new Set<string>();
  let directivesDone = false;
  let esc = 0x5c;
  let escapeToken: "\\" | "`" = "\\";
  let comments: Comment[] = [];

  const lineLen = (li: number) => trimNewline(lines[li]!).length;

  /** Runs the directive parser on a line; returns true if it was consumed as a directive. */
  const directive = (li: number, token: string, col0: number): boolean => {
    if (directivesDone) return false;
    const m = matchDirective(token);
    if (!m) {
      directivesDone = true;
      return false;
    }
    const k = m.key.toLowerCase();
    if (!VALID_DIRECTIVES.has(k)) {
      directivesDone = true;
      return false;
    }
    const sp = span(li + 1, col0 + 1, li + 1, col0 + token.length);
    if (seen.has(k)) {
      diagnostics.push({ code: "DF_PARSE_DUPLICATE_DIRECTIVE", severity: "error", message: `only one ${k} parser directive can be used`, span: sp, hint: `Remove the second '# ${k}=' line.` });
      return true;
    }
    seen.add(k);
    directives.push({ name: k, value: m.value, span: sp });
    if (k === "escape") {
      if (m.value !== "`" && m.value !== "\\") {
        diagnostics.push({ code: "DF_PARSE_BAD_ESCAPE", severity: "error", message: `invalid escape token '${m.value}' does not match \` or \\`, span: sp, hint: "Use '# escape=\\' or '# escape=`'." });
      } else {
        escapeToken = m.value;
        esc = m.value.charCodeAt(0);
      }
    }
    return true;
  };

  let li = 0;
  while (li < lines.length) {
    const physical = lines[li]!;
    const noNl = trimNewline(physical);
    const lead = leftSpaceCount(noNl);
    let token = lead ? noNl.slice(lead) : noNl;
    const wasDirective = directive(li, token, lead);
    if (token.charCodeAt(0) === 0x23) {
      if (!wasDirective) {
        comments.push({ text: goTrimSpace(token.slice(1)), span: span(li + 1, lead + 1, li + 1, noNl.length) });
      }
      token = "";
    }
    const startLi = li;
    li++;
    let [line, isEnd] = trimContinuation(token, esc);
    if (isEnd && line === "") continue;
    let hasEmpty = false;
    while (!isEnd && li < lines.length) {
      const raw = lines[li]!;
      let t = trimNewline(raw);
      if (t.charCodeAt(0) === 0x23) t = "";
      li++;
      if (isComment(raw)) continue;
      if (leftSpaceCount(t) === t.length) {
        hasEmpty = true;
        continue;
      }
      const [cl, end] = trimContinuation(t, esc);
      isEnd = end;
      line += cl;
    }
    const startLine = startLi + 1;
    const column = lead + 1;
    if (hasEmpty) {
      diagnostics.push({
        code: "DF_LINT_NO_EMPTY_CONTINUATION",
        severity: "warning",
        rule: "NoEmptyContinuation",
        message: "Empty continuation lines will become errors in a future release",
        span: span(startLine, column, li, Math.max(1, lineLen(li - 1))),
        hint: "Remove the empty line inside the continued instruction, or end the line before it without the escape character.",
      });
    }
    let node: MutableNode;
    let legacy = false;
    try {
      const r = newNodeFromLine(line, escapeToken);
      node = r.node;
      legacy = r.legacy;
    } catch (e) {
      const message = e instanceof LineError ? e.message : String(e);
      diagnostics.push({ code: "DF_PARSE_SYNTAX", severity: "error", message, span: span(startLine, column, li, Math.max(1, lineLen(li - 1))) });
      comments = [];
      continue;
    }
    node.original = line;
    if (canContainHeredoc(node)) {
      let docs: HeredocHead[] = [];
      try {
        docs = heredocsFromLine(line);
      } catch (e) {
        diagnostics.push({ code: "DF_PARSE_HEREDOC", severity: "error", message: e instanceof Error ? e.message : String(e), span: span(startLine, column, li, Math.max(1, lineLen(li - 1))) });
      }
      let failed = false;
      for (const d of docs) {
        const bodyStart = li;
        let content = "";
        let terminated = false;
        while (li < lines.length) {
          const raw = lines[li]!;
          li++;
          let possible = trimNewline(raw);
          if (d.chomp) {
            let k = 0;
            while (possible.charCodeAt(k) === 0x09) k++;
            possible = possible.slice(k);
          }
          if (possible === d.name) {
            terminated = true;
            break;
          }
          content += raw;
        }
        if (!terminated) {
          diagnostics.push({
            code: "DF_PARSE_UNTERMINATED_HEREDOC",
            severity: "error",
            message: "unterminated heredoc",
            span: span(startLine, column, Math.max(li, 1), Math.max(1, lineLen(Math.max(li - 1, 0)))),
            hint: `Add a line containing only ${JSON.stringify(d.name)} to end the heredoc.`,
          });
          failed = true;
          break;
        }
        node.heredocs.push({ ...d, content, span: span(bodyStart + 1, 1, li, Math.max(1, lineLen(li - 1))) });
      }
      if (failed) {
        comments = [];
        continue;
      }
    }
    node.startLine = startLine;
    node.endLine = li;
    const endLi = li - 1;
    instructions.push({
      node,
      comments,
      span: span(startLine, column, li, Math.max(1, lineLen(endLi))),
      startOffset: lineStarts[startLi]! + lead,
      endOffset: lineStarts[endLi]! + lineLen(endLi),
      column,
      legacy,
    });
    comments = [];
  }
  if (instructions.length === 0 && !diagnostics.some((d) => d.severity === "error")) {
    const last = Math.max(lines.length, 1);
    diagnostics.push({ code: "DF_PARSE_NO_INSTRUCTIONS", severity: "error", message: "file with no instructions", span: span(last, 1, last, 1), hint: "A Dockerfile needs at least a FROM instruction." });
  }
  return { instructions, directives, escapeToken, diagnostics, trailingComments: comments, text, lineStarts };
}

function canContainHeredoc(node: MutableNode): boolean {
  let n = node;
  if (n.value === "onbuild") {
    const child = n.next[0]?.children[0];
    if (child) n = child;
  }
  return HEREDOC_DIRECTIVES.has(n.value) && !n.json;
}

/** splitCommand + the instruction's line parser (BuildKit's newNodeFromLine). */
function newNodeFromLine(line: string, escapeToken: string): { node: MutableNode; legacy: boolean } {
  const { cmd, flags, args } = splitCommand(line);
  let r: LineResult;
  let legacy = false;
  switch (cmd) {
    case "add":
    case "copy":
    case "volume":
      r = parseMaybeJSONToList(args);
      break;
    case "arg":
      r = parseNameOrNameVal(args, escapeToken);
      break;
    case "cmd":
    case "entrypoint":
    case "run":
    case "shell":
      r = parseMaybeJSON(args);
      break;
    case "env":
    case "label": {
      const nv = parseNameVal(args, cmd.toUpperCase(), escapeToken);
      r = nv;
      legacy = nv.legacy;
      break;
    }
    case "expose":
    case "from":
      r = parseStringsWhitespaceDelimited(args);
      break;
    case "healthcheck":
      r = parseHealthConfig(args);
      break;
    case "maintainer":
    case "stopsignal":
    case "user":
    case "workdir":
      r = parseString(args);
      break;
    case "onbuild": {
      if (args === "") r = { next: [], json: false };
      else {
        const child = newNodeFromLine(args, escapeToken).node;
        child.original = args;
        const wrapper = leaf("");
        wrapper.children.push(child);
        r = { next: [wrapper], json: false };
      }
      break;
    }
    default:
      r = { next: [leaf("")], json: false };
  }
  const node = leaf(cmd);
  node.flags = flags;
  node.next = r.next;
  node.json = r.json;
  return { node, legacy };
}

type HeredocHead = Omit<Heredoc, "content" | "span">;

/** Words of the line (quotes and escapes kept) that look like `[n]<<[-]NAME`. */
function heredocsFromLine(line: string): HeredocHead[] {
  if (!line.includes("<<")) return [];
  let words: string[];
  try {
    words = processShellWord(line, () => undefined, { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).words;
  } catch {
    return [];
  }
  const out: HeredocHead[] = [];
  for (const w of words) {
    const h = parseHeredoc(w);
    if (h) out.push(h);
  }
  return out;
}

/** `^(\d*)<<(-?)([^<]*)$` and the delimiter's quoting (BuildKit's ParseHeredoc). */
export function parseHeredoc(word: string): HeredocHead | undefined {
  let i = 0;
  while (i < word.length && word.charCodeAt(i) >= 48 && word.charCodeAt(i) <= 57) i++;
  if (word.charCodeAt(i) !== 0x3c || word.charCodeAt(i + 1) !== 0x3c) return undefined;
  const fdText = word.slice(0, i);
  i += 2;
  let chomp = false;
  if (word[i] === "-") {
    chomp = true;
    i++;
  }
  const rest = word.slice(i);
  if (rest.includes("<") || rest.length === 0) return undefined;
  const none = () => undefined;
  const words = processShellWord(rest, none, { skipUnsetEnv: true }).words;
  if (words.length !== 1) return undefined;
  const raw = processShellWord(rest, none, { skipUnsetEnv: true, rawQuotes: true }).words;
  if (raw.length !== words.length) throw new Error(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  const count = (s: string) => {
    let n = 0;
    for (let k = 0; k < s.length; k++) if (s[k] === "'" || s[k] === '"') n++;
    return n;
  };
  const fd = fdText === "" ? 0 : Number(fdText);
  return { name: words[0]!, expand: count(words[0]!) === count(raw[0]!), chomp, fileDescriptor: Number.isSafeInteger(fd) ? fd : 0 };
}
