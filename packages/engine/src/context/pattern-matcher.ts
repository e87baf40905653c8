import { StrataError } from "@strata/graph";
import { cleanPath, dirname } from "./go-path.ts";
import { BadPatternError, validateGoPattern } from "./go-match.ts";

/**
 * Docker's `.dockerignore` / `--exclude` matcher (moby/patternmatcher, as BuildKit's fsutil
 * uses it):
 * - each pattern is trimmed and `filepath.Clean`ed; `!` marks an exception that re-includes;
 * - `*` and `?` never cross `/`; `**` crosses any number of directories (also none);
 * - a pattern that matches a directory matches everything below it;
 * - patterns apply in order and the last one that matches decides.
 * Backslash escapes the next character (Linux: separators are `/` only).
 */
export class Pattern {
  readonly exclusion: boolean;
  /** The cleaned pattern without its `!`. */
  readonly cleaned: string;
  /** Number of `/`-separated components, as moby's `dirs`. */
  readonly depth: number;
  private readonly test: (path: string) => boolean;

  constructor(raw: string) {
    let p = cleanPath(raw.trim());
    let exclusion = false;
    if (p.startsWith("!")) {
      if (p.length === 1) throw badPattern(raw, 'illegal exclusion pattern: "!"');
      exclusion = true;
      p = p.slice(1);
    }
    try {
      validateGoPattern(p);
    } catch (e) {
      if (e instanceof BadPatternError) throw badPattern(raw, "syntax error in pattern");
      throw e;
    }
    this.exclusion = exclusion;
    this.cleaned = p;
    this.depth = p.split("/").length;
    this.test = compile(p, raw);
  }

  matches(path: string): boolean {
    return this.test(path);
  }
}

function badPattern(raw: string, why: string): StrataError {
  return new StrataError("STRATA_IGNORE_BAD_PATTERN", `invalid pattern ${JSON.stringify(raw)}: ${why}`, {
    hint: "patterns follow Go's filepath.Match syntax plus `**`; escape a literal `[` as `\\[`",
  });
}

/**
 * Translates a cleaned pattern the way moby does (exact, prefix, suffix or regexp match) so
 * the same strings match; the regexp keeps moby's quirks (`[`/`]` pass through, only
 * `.+()|{}$` are escaped).
 */
function compile(pattern: string, raw: string): (path: string) => boolean {
  const runes = Array.from(pattern);
  let re = "^";
  let kind: "exact" | "prefix" | "suffix" | "regexp" = "exact";
  for (let i = 0, n = 0; i < runes.length; n++) {
    const ch = runes[i++] as string;
    if (ch === "*") {
      if (runes[i] === "*") {
        i++;
        if (runes[i] === "/") i++;
        if (i >= runes.length) {
          if (kind === "exact") kind = "prefix";
          else {
            re += ".*";
            kind = "regexp";
          }
        } else {
          re += "(.*/)?";
          kind = "regexp";
        }
        if (n === 0) kind = "suffix";
      } else {
        re += "[^/]*";
        kind = "regexp";
      }
    } else if (ch === "?") {
      re += "[^/]";
      kind = "regexp";
    } else if (".+()|{}$".includes(ch)) {
      re += `\\${ch}`;
    } else if (ch === "\\") {
      if (i < runes.length) {
        re += literal(runes[i++] as string);
        kind = "regexp";
      } else re += "\\\\";
    } else if (ch === "[" || ch === "]") {
      re += ch;
      kind = "regexp";
    } else {
      // Everything else is written as is, as moby does (`^` and `-` keep their meaning
      // inside a class).
      re += ch;
    }
  }
  switch (kind) {
    case "exact":
      return (p) => p === pattern;
    case "prefix": {
      const pre = pattern.slice(0, -2);
      return (p) => p.startsWith(pre);
    }
    case "suffix": {
      const suffix = pattern.slice(2);
      return (p) => p.endsWith(suffix) || (suffix.startsWith("/") && p === suffix.slice(1));
    }
    case "regexp": {
      let rx: RegExp;
      try {
        rx = new RegExp(`${re}$`, "u");
      } catch {
        throw badPattern(raw, "syntax error in pattern");
      }
      return (p) => rx.test(p);
    }
  }
}

/** A character matched literally, escaped so that no JS regexp syntax applies to it. */
function literal(ch: string): string {
  if (/^[A-Za-z0-9_]$/.test(ch)) return ch;
  return `\\u{${(ch.codePointAt(0) as number).toString(16)}}`;
}

/** Per-pattern results for a directory, handed to its children (moby's `MatchInfo`). */
export type MatchInfo = readonly boolean[];

export class PatternMatcher {
  readonly patterns: readonly Pattern[];
  /** Whether any pattern is a `!` exception. */
  readonly exclusions: boolean;

  constructor(patterns: readonly string[]) {
    const list: Pattern[] = [];
    for (const raw of patterns) {
      if (raw.trim() === "") continue;
      list.push(new Pattern(raw));
    }
    this.patterns = list;
    this.exclusions = list.some((p) => p.exclusion);
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /**
   * moby's `MatchesOrParentMatches`: whether `file` (slash-separated, relative) or one of its
   * parent directories is matched, with later patterns overriding earlier ones.
   */
  matches(file: string): boolean {
    file = cleanPath(file);
    if (file === ".") return false;
    let matched = false;
    const parent = dirname(file);
    const parentDirs = parent === "" ? [] : parent.split("/");
    for (const pattern of this.patterns) {
      if (pattern.exclusion !== matched) continue;
      let match = pattern.matches(file);
      if (!match) {
        for (let i = 0; i < parentDirs.length && !match; i++) match = pattern.matches(parentDirs.slice(0, i + 1).join("/"));
      }
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  }

  /**
   * moby's `MatchesUsingParentResults`, for walks: `parent` is the info returned for the
   * parent directory (empty for a top-level path). A pattern that matched the parent
   * matches the child without being re-evaluated.
   */
  matchesUsingParent(file: string, parent: MatchInfo): { matched: boolean; info: MatchInfo } {
    const info: boolean[] = new Array<boolean>(this.patterns.length).fill(false);
    let matched = false;
    this.patterns.forEach((pattern, i) => {
      let match = parent.length > 0 ? (parent[i] as boolean) : false;
      if (!match) {
        if (pattern.exclusion !== matched) return;
        match = pattern.matches(file);
        if (!match && parent.length === 0) {
          const dir = dirname(file);
          if (dir !== "") {
            const dirs = dir.split("/");
            for (let k = 0; k < dirs.length && !match; k++) match = pattern.matches(dirs.slice(0, k + 1).join("/"));
          }
        }
      }
      info[i] = match;
      if (match) matched = !pattern.exclusion;
    });
    return { matched, info };
  }
}

const PATTERN_CHARS = /[*[\]?^\\]/;

/**
 * fsutil's walk shortcut: true when no pattern of the given polarity contains wildcards
 * (beyond a trailing `/*` or `/**`), so a non-matching directory whose path is not a prefix
 * of such a pattern can be skipped without walking it.
 */
export function onlyPrefixPatterns(m: PatternMatcher, exclusion: boolean): boolean {
  return m.patterns.every((p) => p.exclusion !== exclusion || !PATTERN_CHARS.test(withoutTrailingGlob(p)));
}

/** Whether some pattern of the given polarity names a path inside `dir` literally. */
export function someLiteralPatternUnder(m: PatternMatcher, exclusion: boolean, dir: string): boolean {
  const dirSlash = `${dir}/`;
  return m.patterns.some((p) => p.exclusion === exclusion && (`${withoutTrailingGlob(p)}/`).startsWith(dirSlash));
}

function withoutTrailingGlob(p: Pattern): string {
  let s = p.cleaned;
  if (s.endsWith("/**")) s = s.slice(0, -3);
  if (s.endsWith("/*")) s = s.slice(0, -2);
  return s;
}
