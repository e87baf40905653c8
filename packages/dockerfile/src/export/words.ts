import { StrataError } from "@strata/graph";
import { fromTemplate } from "../shell/from-template.ts";

/** A template as a Dockerfile word; errors become coded export errors. */
export function word(template: string, escapeToken: string, what: string): string {
  try {
    return fromTemplate(template, { escapeToken });
  } catch (e) {
    throw new StrataError("STRATA_EXPORT_UNSUPPORTED", `${what}: ${(e as Error).message}`);
  }
}

/** A JSON array of strings, as exec form writes it (`["a", "b"]`). */
export function jsonArray(items: readonly string[]): string {
  return `[${items.map((s) => JSON.stringify(s)).join(", ")}]`;
}

/**
 * A heredoc for `content`, or undefined when none gives exactly these bytes back: the body
 * must end with a newline (the terminator line follows it), and a delimiter that occurs as a
 * line of the body is avoided.
 */
export function heredoc(content: string, preferred = "EOF"): { delimiter: string; body: string } | undefined {
  if (content !== "" && !content.endsWith("\n")) return undefined;
  const lines = new Set(content.split("\n"));
  let delimiter = preferred;
  for (let i = 2; lines.has(delimiter); i++) delimiter = `${preferred}${i}`;
  return { delimiter, body: content };
}

/** Quotes a value for the CSV syntax of `--mount` (BuildKit reads it with encoding/csv). */
export function csvField(value: string): string {
  return /[",\s]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
