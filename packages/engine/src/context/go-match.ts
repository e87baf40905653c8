/**
 * Go's `path/filepath.Match` on Linux, rune for rune: COPY source globs are resolved with it
 * (BuildKit's fsutil), and moby's pattern matcher calls it to reject malformed patterns.
 *
 *   *        any run of characters except `/`
 *   ?        one character except `/`
 *   [a-z]    a class (`[^…]` negates; `\` escapes inside and outside classes)
 *
 * Malformed patterns (`[`, `[]a]`, `[-]`, a trailing `\`…) raise `BadPatternError`, but, as
 * in Go, only once the matcher reaches the bad part or when the name did not match.
 */
export class BadPatternError extends Error {
  constructor(readonly pattern: string) {
    super(`syntax error in pattern ${JSON.stringify(pattern)}`);
    this.name = "BadPatternError";
  }
}

type Runes = readonly string[];

export function goMatch(pattern: string, name: string): boolean {
  return matchRunes(Array.from(pattern), Array.from(name), pattern);
}

/** Throws `BadPatternError` when Go's `filepath.Match(pattern, ".")` would return ErrBadPattern. */
export function validateGoPattern(pattern: string): void {
  goMatch(pattern, ".");
}

/** BuildKit's `containsWildcards`: `*`, `?` or `[` outside a backslash escape. */
export function containsWildcards(p: string): boolean {
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "\\") i++;
    else if (c === "*" || c === "?" || c === "[") return true;
  }
  return false;
}

function matchRunes(pat: Runes, name: Runes, original: string): boolean {
  let p = pat;
  let s = name;
  outer: while (p.length > 0) {
    const { star, chunk, rest } = scanChunk(p);
    p = rest;
    if (star && chunk.length === 0) return !s.includes("/");
    const r = matchChunk(chunk, s, original);
    if (r !== undefined && (r.length === 0 || p.length > 0)) {
      s = r;
      continue;
    }
    if (star) {
      for (let i = 0; i < s.length && s[i] !== "/"; i++) {
        const t = matchChunk(chunk, s.slice(i + 1), original);
        if (t !== undefined) {
          if (p.length === 0 && t.length > 0) continue;
          s = t;
          continue outer;
        }
      }
    }
    // No match: still report a malformed remainder, as Go does.
    while (p.length > 0) {
      const next = scanChunk(p);
      p = next.rest;
      matchChunk(next.chunk, [], original);
    }
    return false;
  }
  return s.length === 0;
}

function scanChunk(pat: Runes): { star: boolean; chunk: Runes; rest: Runes } {
  let i = 0;
  let star = false;
  while (i < pat.length && pat[i] === "*") {
    i++;
    star = true;
  }
  const start = i;
  let inRange = false;
  for (; i < pat.length; i++) {
    const c = pat[i];
    if (c === "\\") {
      if (i + 1 < pat.length) i++;
    } else if (c === "[") inRange = true;
    else if (c === "]") inRange = false;
    else if (c === "*" && !inRange) break;
  }
  return { star, chunk: pat.slice(start, i), rest: pat.slice(i) };
}

/** The rest of `s` after `chunk` matched its start, or undefined; throws on a malformed chunk. */
function matchChunk(chunk: Runes, s: Runes, original: string): Runes | undefined {
  let failed = false;
  let c = 0;
  let si = 0;
  while (c < chunk.length) {
    if (!failed && si >= s.length) failed = true;
    const ch = chunk[c] as string;
    if (ch === "[") {
      let r = "";
      if (!failed) r = s[si++] as string;
      c++;
      let negated = false;
      if (chunk[c] === "^") {
        negated = true;
        c++;
      }
      let match = false;
      let nrange = 0;
      for (;;) {
        if (c < chunk.length && chunk[c] === "]" && nrange > 0) {
          c++;
          break;
        }
        const lo = getEsc(chunk, c, original);
        c = lo.next;
        let hi = lo.rune;
        if (chunk[c] === "-") {
          const h = getEsc(chunk, c + 1, original);
          c = h.next;
          hi = h.rune;
        }
        if (!failed && cp(lo.rune) <= cp(r) && cp(r) <= cp(hi)) match = true;
        nrange++;
      }
      if (match === negated) failed = true;
    } else if (ch === "?") {
      if (!failed) {
        if (s[si] === "/") failed = true;
        si++;
      }
      c++;
    } else {
      let lit = ch;
      if (ch === "\\") {
        c++;
        if (c >= chunk.length) throw new BadPatternError(original);
        lit = chunk[c] as string;
      }
      if (!failed) {
        if (lit !== s[si]) failed = true;
        si++;
      }
      c++;
    }
  }
  return failed ? undefined : s.slice(si);
}

function getEsc(chunk: Runes, at: number, original: string): { rune: string; next: number } {
  let i = at;
  if (i >= chunk.length || chunk[i] === "-" || chunk[i] === "]") throw new BadPatternError(original);
  if (chunk[i] === "\\") {
    i++;
    if (i >= chunk.length) throw new BadPatternError(original);
  }
  const rune = chunk[i] as string;
  i++;
  if (i >= chunk.length) throw new BadPatternError(original);
  return { rune, next: i };
}

function cp(r: string): number {
  return r.codePointAt(0) ?? -1;
}
