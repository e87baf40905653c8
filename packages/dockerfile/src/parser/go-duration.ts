/** Go's `time.ParseDuration` (HEALTHCHECK flags), returning nanoseconds or an error message. */

const UNITS: Record<string, number> = { ns: 1, us: 1e3, "\u00b5s": 1e3, "\u03bcs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
// Go's max int64 (2^63 - 1), which a double rounds to 2^63.
const MAX = 2 ** 63;

export function parseGoDuration(s: string): { ns: number } | { error: string } {
  const orig = s;
  const bad = { error: `time: invalid duration ${JSON.stringify(orig)}` };
  let neg = false;
  if (s[0] === "-" || s[0] === "+") {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return { ns: 0 };
  if (s === "") return bad;
  let total = 0;
  while (s !== "") {
    let i = 0;
    while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    const intPart = s.slice(0, i);
    let frac = "";
    let j = i;
    if (s[j] === ".") {
      j++;
      const k = j;
      while (j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
      frac = s.slice(k, j);
      if (intPart === "" && frac === "") return bad;
    } else if (intPart === "") return bad;
    let u = j;
    while (u < s.length) {
      const c = s[u]!;
      if (c === "." || (c >= "0" && c <= "9")) break;
      u++;
    }
    if (u === j) return { error: `time: missing unit in duration ${JSON.stringify(orig)}` };
    const unit = s.slice(j, u);
    const mult = UNITS[unit];
    if (mult === undefined) return { error: `time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(orig)}` };
    total += Number(intPart || "0") * mult + (frac ? Math.floor(Number(`0.${frac}`) * mult) : 0);
    if (total > MAX) return bad;
    s = s.slice(u);
  }
  return { ns: neg ? -total : total };
}
