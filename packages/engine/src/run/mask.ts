/** Secret lines shorter than this are not masked: "}" or "--" would blank out unrelated output. */
const MIN_MASKED = 4;

/**
 * The strings to mask for one secret value: the whole value (trimmed), and each of its lines on
 * its own, since a step's output is read and shown line by line: a multi-line secret (a key, a
 * config file) printed by a step arrives as several lines, each of which must be hidden.
 */
export function secretMasks(value: string): string[] {
  const out = new Set<string>();
  const whole = value.trim();
  if (whole.length >= MIN_MASKED) out.add(whole);
  for (const line of value.split(/\r?\n/)) {
    const l = line.trim();
    if (l.length >= MIN_MASKED) out.add(l);
  }
  return [...out];
}

/** A function replacing every occurrence of the masks in a line with `****` (longest first, so a whole value wins over its parts). */
export function masker(masks: readonly string[]): (line: string) => string {
  const sorted = [...new Set(masks)].filter((m) => m !== "").sort((a, b) => b.length - a.length);
  if (sorted.length === 0) return (line) => line;
  return (line) => sorted.reduce((l, s) => (l.includes(s) ? l.split(s).join("****") : l), line);
}
