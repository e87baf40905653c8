import type { Comment } from "@strata/dockerfile";

/** A comment line for the module (`// …` text without the slashes), or `null` for a blank line between comment groups. */
export type CommentLine = string | null;

/**
 * Dockerfile comments as TypeScript line comments. The text comes from the source line, not
 * the parser's trimmed copy, so indented lists and ASCII art keep their shape; a blank line
 * between two comments stays a blank line.
 */
export function commentLines(lines: readonly string[], comments: readonly Comment[]): CommentLine[] {
  const out: CommentLine[] = [];
  let last: number | undefined;
  for (const c of comments) {
    const line = c.span.start.line;
    if (last !== undefined && line > last + 1) out.push(null);
    last = line;
    const source = lines[line - 1] ?? `#${c.text}`;
    const hash = source.indexOf("#");
    out.push(commentText(hash >= 0 ? source.slice(hash + 1) : c.text));
  }
  return out;
}

/** `#text` → ` text`; the body keeps its own indentation after the first space. */
export function commentText(body: string): string {
  const b = body.replace(/\s+$/, "").replace(/\r/g, "");
  if (b === "") return "";
  return /^[ \t]/.test(b) ? b : ` ${b}`;
}
