/** Parses a Go-style duration (`30s`, `1m30s`, `500ms`, `1.5h`) to nanoseconds, as Dockerfile HEALTHCHECK flags take. */
export function parseDuration(text: string): number {
  const re = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  const units: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  if (text === "0") return 0;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new TypeError(`invalid duration ${JSON.stringify(text)}: expected e.g. 30s, 1m30s, 500ms`);
    total += Number(m[1]) * units[m[2]!]!;
    pos = re.lastIndex;
  }
  if (pos === 0) throw new TypeError(`invalid duration ${JSON.stringify(text)}: expected e.g. 30s, 1m30s, 500ms`);
  return Math.round(total);
}

/** Nanoseconds back to the shortest Go-style duration string (`90000000000` → `1m30s`). */
export function formatDuration(ns: number): string {
  if (ns === 0) return "0s";
  const parts: string[] = [];
  let rest = ns;
  for (const [unit, size] of [["h", 3600e9], ["m", 60e9], ["s", 1e9], ["ms", 1e6], ["us", 1e3], ["ns", 1]] as const) {
    if (rest >= size) {
      const n = Math.floor(rest / size);
      parts.push(`${n}${unit}`);
      rest -= n * size;
    }
  }
  return parts.join("");
}
