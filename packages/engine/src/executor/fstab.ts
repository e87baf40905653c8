/** One fstab(5) line for `mount -a -T <file>`: fields escaped as libmount expects. */
export interface FstabEntry {
  readonly source: string;
  readonly target: string;
  readonly fsType: string;
  readonly options: readonly string[];
}

export function formatFstab(entries: readonly FstabEntry[]): string {
  return entries
    .map((e) => `${escapeField(e.source)} ${escapeField(e.target)} ${e.fsType} ${e.options.join(",") || "defaults"} 0 0\n`)
    .join("");
}

/** fstab separates fields by white space; libmount decodes `\ooo` escapes. */
function escapeField(s: string): string {
  return s.replace(/[\s\\#]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`);
}

/** Quotes a word for POSIX sh. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
