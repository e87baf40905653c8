/**
 * BuildKit's per-instruction line parsers (`parser/line_parsers.go`, `split_command.go`):
 * each turns the text after the keyword into the raw node chain that Node.Dump prints.
 * Errors are returned as strings (the caller turns them into diagnostics).
 */
import { goTrimLeftSpace, goTrimSpace, isGoSpace, splitReWhitespace } from "../shell/chars.ts";

export interface MutableNode {
  value: string;
  next: MutableNode[];
  children: MutableNode[];
  json: boolean;
  original: string;
  flags: string[];
  heredocs: import("./types.ts").Heredoc[];
  startLine: number;
  endLine: number;
}

export function leaf(value: string): MutableNode {
  return { value, next: [], children: [], json: false, original: "", flags: [], heredocs: [], startLine: 0, endLine: 0 };
}

export class LineError extends Error {}

/** What follows the keyword: a list of argument nodes and whether it was a JSON array. */
export interface LineResult {
  next: MutableNode[];
  json: boolean;
}

const EMPTY: LineResult = { next: [], json: false };

/** splitCommand: keyword (lower-cased), flags, and the trimmed rest. */
export function splitCommand(line: string): { cmd: string; flags: string[]; args: string } {
  const parts = splitReWhitespace(goTrimSpace(line), 2);
  const cmd = parts[0]!.toLowerCase();
  let args = "";
  let flags: string[] = [];
  if (parts.length === 2) ({ args, flags } = extractBuilderFlags(parts[1]!));
  return { cmd, flags, args: goTrimSpace(args) };
}

/** Leading `--flag[=value]` words (quotes and `\` resolved); a bare `--` ends them. */
function extractBuilderFlags(line: string): { args: string; flags: string[] } {
  const words: string[] = [];
  let phase = 0; // 0 spaces, 1 word, 2 quote
  let word = "";
  let quote = "";
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    const ch = pos < line.length ? line[pos]! : "";
    if (phase === 0) {
      if (pos === line.length) break;
      if (isGoSpace(ch.charCodeAt(0))) continue;
      if (ch !== "-" || pos + 1 === line.length || line[pos + 1] !== "-") return { args: line.slice(pos), flags: words };
      phase = 1;
    }
    if (pos === line.length) {
      if (word !== "--" && (blankOK || word.length > 0)) words.push(word);
      break;
    }
    if (phase === 1) {
      if (isGoSpace(ch.charCodeAt(0))) {
        phase = 0;
        if (word === "--") return { args: line.slice(pos), flags: words };
        if (blankOK || word.length > 0) words.push(word);
        word = "";
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 2;
        continue;
      }
      if (ch === "\\") {
        if (pos + 1 === line.length) continue;
        pos++;
        word += line[pos]!;
        continue;
      }
      word += ch;
      continue;
    }
    // in quote
    if (ch === quote) {
      phase = 1;
      continue;
    }
    if (ch === "\\") {
      if (pos + 1 === line.length) {
        phase = 1;
        continue;
      }
      pos++;
      word += line[pos]!;
      continue;
    }
    word += ch;
  }
  return { args: "", flags: words };
}

/** parseWords: whitespace-separated words, quotes and escapes kept (expanded later). */
function parseWords(rest: string, escapeToken: string): string[] {
  const words: string[] = [];
  let phase = 0;
  let start = -1;
  let word = "";
  let quote = "";
  let blankOK = false;
  const n = rest.length;
  for (let pos = 0; pos <= n; ) {
    if (phase === 0) {
      if (pos === n) break;
      const cp = rest.codePointAt(pos)!;
      if (isGoSpace(cp)) {
        pos += cp > 0xffff ? 2 : 1;
        continue;
      }
      phase = 1;
      start = pos;
      word = "";
    }
    if (pos === n) {
      word += rest.slice(start, pos);
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    const cp = rest.codePointAt(pos)!;
    const w = cp > 0xffff ? 2 : 1;
    const ch = rest.slice(pos, pos + w);
    if (phase === 1) {
      if (isGoSpace(cp)) {
        word += rest.slice(start, pos);
        phase = 0;
        if (blankOK || word.length > 0) words.push(word);
        word = "";
        blankOK = false;
        pos += w;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 2;
      }
      if (ch === escapeToken) {
        if (pos + w === n) {
          // An escape at the very end is dropped.
          word += rest.slice(start, pos);
          start = pos + w;
          pos += w;
          continue;
        }
        // The escape and the next character are both kept (even a quote).
        const w2 = rest.codePointAt(pos + 1)! > 0xffff ? 2 : 1;
        pos += w + w2;
        continue;
      }
      pos += w;
      continue;
    }
    // in quote
    if (ch === quote) phase = 1;
    if (ch === escapeToken && quote !== "'") {
      if (pos + w === n) {
        word += rest.slice(start, pos);
        start = pos + w;
        phase = 1;
        pos += w;
        continue;
      }
      const w2 = rest.codePointAt(pos + 1)! > 0xffff ? 2 : 1;
      pos += w + w2;
      continue;
    }
    pos += w;
  }
  return words;
}

export function parseNameVal(rest: string, key: string, escapeToken: string): LineResult & { legacy: boolean } {
  const words = parseWords(rest, escapeToken);
  if (words.length === 0) return { ...EMPTY, legacy: false };
  if (!words[0]!.includes("=")) {
    const parts = splitReWhitespace(rest, 2);
    if (parts.length < 2) throw new LineError(`${key} must have two arguments`);
    return { next: [leaf(parts[0]!), leaf(parts[1]!), leaf("")], json: false, legacy: true };
  }
  const next: MutableNode[] = [];
  for (const word of words) {
    const eq = word.indexOf("=");
    if (eq < 0) throw new LineError(`Syntax error - can't find = in ${JSON.stringify(word)}. Must be of the form: name=value`);
    next.push(leaf(word.slice(0, eq)), leaf(word.slice(eq + 1)), leaf("="));
  }
  return { next, json: false, legacy: false };
}

export function parseNameOrNameVal(rest: string, escapeToken: string): LineResult {
  return { next: parseWords(rest, escapeToken).map(leaf), json: false };
}

export function parseStringsWhitespaceDelimited(rest: string): LineResult {
  if (rest === "") return EMPTY;
  return { next: splitReWhitespace(rest, -1).map(leaf), json: false };
}

export function parseString(rest: string): LineResult {
  if (rest === "") return EMPTY;
  return { next: [leaf(rest)], json: false };
}

const NOT_STRING_ARRAY = "when using JSON array syntax, arrays must be comprised of strings only";

/** A JSON array of strings, `undefined` when the text is not a JSON array (shell form). */
function parseJSON(rest: string): string[] | undefined {
  const t = goTrimLeftSpace(rest);
  if (t.charCodeAt(0) !== 0x5b /* [ */) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v)) return undefined;
  for (const x of v) if (typeof x !== "string") throw new LineError(NOT_STRING_ARRAY);
  return v as string[];
}

export function parseMaybeJSON(rest: string): LineResult {
  if (rest === "") return EMPTY;
  const arr = parseJSON(rest);
  if (arr) return { next: arr.map(leaf), json: true };
  return { next: [leaf(rest)], json: false };
}

export function parseMaybeJSONToList(rest: string): LineResult {
  const arr = parseJSON(rest);
  if (arr) return { next: arr.map(leaf), json: true };
  return parseStringsWhitespaceDelimited(rest);
}

export function parseHealthConfig(rest: string): LineResult {
  let sep = 0;
  while (sep < rest.length && !isGoSpace(rest.charCodeAt(sep))) sep++;
  let next = sep;
  while (next < rest.length && isGoSpace(rest.charCodeAt(next))) next++;
  if (sep === 0) return EMPTY;
  const cmd = parseMaybeJSON(rest.slice(next));
  return { next: [leaf(rest.slice(0, sep)), ...cmd.next], json: cmd.json };
}
