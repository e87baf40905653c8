import { ts } from "ts-morph";
import { commentText } from "./comments.ts";
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
  /** Comment lines that sat inside the continuation (BuildKit drops them from the command) and are not written inside the expression. */
  readonly innerComments: readonly string[];
  /** The comments the expression carries itself (as `//` lines between its pieces). */
  readonly placed?: readonly string[];
}

interface Segment {
  readonly text: string;
  readonly continues: boolean;
}

export function shellText(value: string, raw: string | undefined, escapeToken: "\\" | "`", opts: { inside?: boolean } = {}): ShellText {
  const plain = { expression: str(value), innerComments: [] };
  if (raw === undefined || value.includes("\n") || value.includes("\r")) return plain;
  const split = splitContinuations(raw, escapeToken);
  if (!split || split.segments.length < 2) return plain;
  const parts = templateParts(split.segments, value, opts.inside ?? false);
  if (parts === undefined) return plain;
  try {
    if (!split.comments.length) return { expression: piece(parts.map((p) => p.text)), innerComments: [] };
    if (parts.length < 2) return { expression: piece(parts.map((p) => p.text)), innerComments: split.comments.map((c) => c.text) };
    const inRange = split.comments.filter((c) => c.beforeSegment > parts[0]!.segment && c.beforeSegment <= parts[parts.length - 1]!.segment);
    if (!inRange.length) return { expression: piece(parts.map((p) => p.text)), innerComments: split.comments.map((c) => c.text) };
    const outside = split.comments.filter((c) => !inRange.includes(c)).map((c) => c.text);
    return { expression: commentedPieces(parts, inRange, value), innerComments: outside, placed: inRange.map((c) => c.text) };
  } catch {
    // The compiler refused the raw text (it does not cook to `value`): keep the plain string.
    return { ...plain, innerComments: split.comments.map((c) => c.text) };
  }
}

/** Consecutive continuation lines as one literal: a template literal over several lines, or a string for one. */
function piece(texts: readonly string[]): ts.Expression {
  const value = texts.join("");
  return texts.length < 2 ? str(value) : templateLiteral(value, texts.map(escapeTemplate).join("\\\n"));
}

/**
 * A command with comment lines inside its continuation (BuildKit drops them from the command):
 * the lines between comments are literals joined with `+`, each comment a `//` line where it
 * stood, so it stays next to what it explains and the value is exactly the command.
 */
function commentedPieces(parts: readonly { text: string; segment: number }[], comments: readonly InnerComment[], value: string): ts.Expression {
  const groups: Array<{ texts: string[]; comments: string[] }> = [{ texts: [], comments: [] }];
  let c = 0;
  for (const p of parts) {
    const before: string[] = [];
    while (c < comments.length && comments[c]!.beforeSegment <= p.segment) before.push(comments[c++]!.text);
    if (before.length) groups.push({ texts: [], comments: before });
    groups[groups.length - 1]!.texts.push(p.text);
  }
  const rest = comments.slice(c).map((x) => x.text);
  const used = groups.filter((g) => g.texts.length);
  if (used.length && rest.length) used[used.length - 1]!.comments.push(...rest);
  // A group emptied by its comments (comments at the very start) merges its comments into the next.
  for (let i = 0; i < groups.length - 1; i++) if (!groups[i]!.texts.length) groups[i + 1]!.comments.unshift(...groups[i]!.comments);
  if (used.map((g) => g.texts.join("")).join("") !== value) throw new Error("pieces do not give the command");
  let expr: ts.Expression | undefined;
  for (const g of used) {
    const e = piece(g.texts);
    for (const text of g.comments) ts.addSyntheticLeadingComment(e, ts.SyntaxKind.SingleLineCommentTrivia, commentText(text), true);
    expr = expr === undefined ? e : ts.factory.createBinaryExpression(expr, ts.SyntaxKind.PlusToken, e);
  }
  return expr!;
}

interface InnerComment {
  readonly text: string;
  /** The index of the segment it precedes. */
  readonly beforeSegment: number;
}

/** The instruction's physical lines as BuildKit joins them: continuation markers removed, comment and blank lines inside skipped. */
function splitContinuations(raw: string, escapeToken: string): { segments: Segment[]; comments: InnerComment[] } | undefined {
  const lines = raw.split("\n").map((l) => l.replace(/\r$/, ""));
  const segments: Segment[] = [];
  const comments: InnerComment[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (i > 0 && line.trim() === "") continue;
    if (i > 0 && /^\s*#/.test(line)) {
      comments.push({ text: line.trim().slice(1), beforeSegment: segments.length });
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
 * The pieces of `value` each segment gives (`value` is the tail of the logical line, after the
 * keyword and flags, up to trailing whitespace), with the segment they come from.
 */
function templateParts(segments: readonly Segment[], value: string, inside: boolean): Array<{ text: string; segment: number }> | undefined {
  const joined = segments.map((s) => s.text).join("");
  let end = joined.length;
  // `inside`: a value within the line (an ARG or ENV value between quotes), found where it occurs once.
  if (inside) {
    const at = value.length >= 8 ? joined.indexOf(value) : -1;
    if (at < 0 || joined.indexOf(value, at + 1) >= 0) return undefined;
    end = at + value.length;
  }
  while (end >= value.length && joined.slice(end - value.length, end) !== value) {
    if (!/\s/.test(joined[end - 1] ?? "")) return undefined;
    end--;
  }
  const start = end - value.length;
  if (start < 0 || joined.slice(start, end) !== value) return undefined;
  const parts: Array<{ text: string; segment: number }> = [];
  let offset = 0;
  segments.forEach((s, i) => {
    const from = Math.max(start, offset);
    const to = Math.min(end, offset + s.text.length);
    offset += s.text.length;
    if (to < from || (to === from && (offset <= start || from >= end))) return;
    parts.push({ text: s.text.slice(from - (offset - s.text.length), to - (offset - s.text.length)), segment: i });
  });
  if (parts.length < 2 && !inside) return undefined;
  return parts;
}
