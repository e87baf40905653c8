/**
 * `WWW-Authenticate` parsing (RFC 7235): one header may carry several challenges
 * (`Basic realm="r", Bearer realm="…",service="…"`), parameters may be quoted with
 * backslash escapes, and scheme and parameter names are case-insensitive.
 */
export interface Challenge {
  /** Lowercased: `basic`, `bearer`, … */
  readonly scheme: string;
  /** Parameter names lowercased; values as sent (unquoted). */
  readonly params: Readonly<Record<string, string>>;
}

const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

export function parseChallenges(header: string | readonly string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const values = typeof header === "string" ? [header] : header;
  const out: Challenge[] = [];
  for (const v of values) parseOne(v, out);
  return out;
}

function parseOne(s: string, out: Challenge[]): void {
  let i = 0;
  const skipWs = (): void => {
    while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < s.length && TOKEN_CHAR.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const readQuoted = (): string => {
    i++; // opening quote
    let v = "";
    while (i < s.length && s[i] !== '"') {
      if (s[i] === "\\" && i + 1 < s.length) i++;
      v += s[i];
      i++;
    }
    i++; // closing quote (or end of input for a malformed header)
    return v;
  };
  while (i < s.length) {
    while (i < s.length && (s[i] === " " || s[i] === "\t" || s[i] === ",")) i++;
    const scheme = readToken();
    if (scheme === "") {
      i++; // junk: skip a character rather than loop forever
      continue;
    }
    const params: Record<string, string> = {};
    for (;;) {
      const save = i;
      skipWs();
      const name = readToken();
      skipWs();
      if (name === "" || s[i] !== "=") {
        i = save; // the next challenge's scheme, or the end
        break;
      }
      i++;
      skipWs();
      const value = s[i] === '"' ? readQuoted() : readToken();
      params[name.toLowerCase()] = value;
      skipWs();
      if (s[i] === ",") i++;
      else break;
    }
    out.push(Object.freeze({ scheme: scheme.toLowerCase(), params: Object.freeze(params) }));
  }
}

/** The challenge we act on: Bearer beats Basic (as Docker prefers token auth when offered). */
export function pickChallenge(challenges: readonly Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === "bearer") ?? challenges.find((c) => c.scheme === "basic");
}
