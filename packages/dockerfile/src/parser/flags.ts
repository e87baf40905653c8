/**
 * BuildKit's BFlags: the flags an instruction accepts, and how `--name[=value]` words are
 * checked (unknown flag, duplicate, missing value, boolean values).
 */
import type { RawFlag } from "./types.ts";

type FlagKind = "string" | "strings" | "bool";

export interface FlagSpec {
  readonly [name: string]: FlagKind;
}

export interface ParsedFlags {
  readonly strings: Map<string, string>;
  readonly lists: Map<string, string[]>;
  readonly bools: Map<string, boolean>;
  readonly raw: RawFlag[];
  /** The first problem, BuildKit-worded; the instruction is rejected when set. */
  readonly error?: { message: string; flag: string };
}

export function toRawFlags(words: readonly string[]): RawFlag[] {
  if (words.length === 0) return [];
  return words.map((raw) => {
    const body = raw.startsWith("--") ? raw.slice(2) : raw;
    const eq = body.indexOf("=");
    return eq < 0 ? { raw, name: body } : { raw, name: body.slice(0, eq), value: body.slice(eq + 1) };
  });
}

const NO_FLAGS: ParsedFlags = { strings: new Map(), lists: new Map(), bools: new Map(), raw: [] };

export function parseFlags(words: readonly string[], spec: FlagSpec): ParsedFlags {
  // Most instructions have no flags: share one empty (never mutated) result.
  if (words.length === 0) return NO_FLAGS;
  const strings = new Map<string, string>();
  const lists = new Map<string, string[]>();
  const bools = new Map<string, boolean>();
  const used = new Set<string>();
  const raw = toRawFlags(words);
  const fail = (message: string, flag: string): ParsedFlags => ({ strings, lists, bools, raw, error: { message, flag } });
  for (const word of words) {
    if (!word.startsWith("--")) return fail(`arg should start with -- : ${word}`, word);
    if (word === "--") break;
    let name = word.slice(2);
    let value = "";
    const eq = name.indexOf("=");
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const kind = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (!kind) {
      const near = suggest(name, Object.keys(spec));
      return fail(`unknown flag: ${name}${near ? ` (did you mean ${near}?)` : ""}`, word);
    }
    if (used.has(name) && kind !== "strings") return fail(`duplicate flag specified: ${name}`, word);
    used.add(name);
    if (kind === "bool") {
      if (eq >= 0 && value === "") return fail(`missing a value on flag: ${name}`, word);
      const lower = value.toLowerCase();
      if (lower === "" || lower === "true") bools.set(name, true);
      else if (lower === "false") bools.set(name, false);
      else return fail(`expecting boolean value for flag ${name}, not: ${value}`, word);
    } else {
      if (eq < 0) return fail(`missing a value on flag: ${name}`, word);
      if (kind === "string") strings.set(name, value);
      else {
        const l = lists.get(name);
        if (l) l.push(value);
        else lists.set(name, [value]);
      }
    }
  }
  return { strings, lists, bools, raw };
}

/** Levenshtein distance, capped: anything above 2 reads as 3 (only near misses matter). */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const d: number[] = [];
  for (let j = 0; j <= b.length; j++) d[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}

/** The closest candidate within edit distance 2 (BuildKit's suggest.WrapError does the same). */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}
