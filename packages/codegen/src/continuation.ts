import type { ts } from "ts-morph";
import { escapeTemplate, str, templateLiteral } from "./literals.ts";

/**
 * Shell commands written over several lines with `\` continuations (the docker-library style
 * `set -eux; \` chains) become template literals that keep those line breaks: a backslash at
 * the end of a line inside a template literal is a JavaScript line continuation, which adds
 * nothing to the value, exactly like the Dockerfile's. So the code reads like the Dockerfile
 * and the string the builder gets is byte-identical to the one the importer passes.
 */
export interface ShellText {
  readonly expression: ts.Expression;
  /** Comment lines that sat inside the continuation (BuildKit drops them from the command). */
  readonly innerComments: readonly string[];
}

interface Segment {
  readonly text: string;
  readonly continues: boolean;
}

export function shellText(value: string, raw: string | undefined, escapeToken: "\\" | "`"): ShellText {
  const plain = { expression: str(value), innerComments: [] };
  if (raw === undefined || value.includes("\n") || value.includes("\r")) return plain;
  const split = splitContinuations(raw, escapeToken);
  if (!split || split.segments.length < 2) return plain;
  const rawText = templateRaw(split.segments, value);
  if (rawText === undefined) return plain;
  try {
    return { expression: templateLiteral(value, rawText), innerComments: split.comments };
  } catch {
    // The compiler refused the raw text (it does not cook to `value`): keep the plain string.
    return plain;
  }
}

/** The instruction's physical lines as BuildKit joins them: continuation markers removed, comment and blank lines inside skipped. */
function splitContinuations(raw: string, escapeToken: string): { segments: Segment[]; comments: string[] } | undefined {
  const lines = raw.split("\n").map((l) => l.replace(/\r$/, ""));
  const segments: Segment[] = [];
  const comments: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (i > 0 && line.trim() === "") continue;
    if (i > 0 && /^\s*#/.test(line)) {
      comments.push(line.trim().slice(1));
      continue;
    }
    const text = i === 0 ? line.trimStart() : line;
    const cut = continuation(text, escapeToken);
    if (cut === undefined) {
      segments.push({ text, continues: false });
      // Anything after the logical line (a heredoc body) is not part of a continuation.
      return { segments, comments };
    }
    segments.push({ text: cut, continues: true });
  }
  return { segments, comments };
}

/** BuildKit's rule: the last non-blank character is the escape token, not itself escaped; returns the line without it. */
function continuation(line: string, escapeToken: string): string | undefined {
  let e = line.length;
  while (e > 0 && (line[e - 1] === " " || line[e - 1] === "\t")) e--;
  if (e === 0 || line[e - 1] !== escapeToken) return undefined;
  if (e > 1 && line[e - 2] === escapeToken) return undefined;
  return line.slice(0, e - 1);
}

/**
 * Raw template text for `value` out of the joined segments: `value` is the tail of the
 * logical line (after the keyword and flags), up to trailing whitespace.
 */
function templateRaw(segments: readonly Segment[], value: string): string | undefined {
  const joined = segments.map((s) => s.text).join("");
  let end = joined.length;
  while (end >= value.length && joined.slice(end - value.length, end) !== value) {
    if (!/\s/.test(joined[end - 1] ?? "")) return undefined;
    end--;
  }
  const start = end - value.length;
  if (start < 0 || joined.slice(start, end) !== value) return undefined;
  const parts: string[] = [];
  let offset = 0;
  for (const s of segments) {
    const from = Math.max(start, offset);
    const to = Math.min(end, offset + s.text.length);
    offset += s.text.length;
    if (to < from || (to === from && (offset <= start || from >= end))) continue;
    parts.push(s.text.slice(from - (offset - s.text.length), to - (offset - s.text.length)));
  }
  if (parts.length < 2) return undefined;
  return parts.map(escapeTemplate).join("\\\n");
}
