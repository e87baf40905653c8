/**
 * The public entry point: text → typed AST + diagnostics. Never throws: any input, however
 * broken, gives an AST (possibly empty) and diagnostics saying what BuildKit would reject.
 */
import { lintDockerfile } from "../lint/checks.ts";
import { validateDockerfile } from "../lint/validate.ts";
import { isGoSpace } from "../shell/chars.ts";
import { typeInstruction } from "./instructions.ts";
import { checkWords } from "./word-check.ts";
import { rawParse, span as mkSpan, type RawInstruction } from "./raw-parser.ts";
import type {
  ArgInstruction,
  DockerfileAst,
  DockerfileDiagnostic,
  FromInstruction,
  Instruction,
  ParseResult,
  RawNode,
  Span,
  Stage,
} from "./types.ts";

export interface ParseOptions {
  /** The file's name, for callers that label diagnostics (spans carry no file name). */
  readonly file?: string;
  /** Run the build checks (BuildKit's lint rules); default true. */
  readonly lint?: boolean;
  /** The environment bounds are read from (`STRATA_MAX_WORD_BYTES`); default: none, so the default bounds. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const DECODER = new TextDecoder("utf-8");

export function parseDockerfile(input: string | Uint8Array, opts: ParseOptions = {}): ParseResult {
  try {
    return parseUnsafe(typeof input === "string" ? input : DECODER.decode(input), opts);
  } catch (e) {
    // A bug of ours, not the input's fault: still no exception out of the public API.
    const sp = mkSpan(1, 1, 1, 1);
    return {
      ast: emptyAst(),
      diagnostics: [{ code: "DF_INTERNAL", severity: "error", message: `internal parser error: ${e instanceof Error ? e.message : String(e)}`, span: sp }],
    };
  }
}

function emptyAst(): DockerfileAst {
  return { directives: [], escapeToken: "\\", globalArgs: [], stages: [], instructions: [], trailingComments: [], raw: [] };
}

function parseUnsafe(text: string, opts: ParseOptions): ParseResult {
  const rp = rawParse(text);
  const diagnostics: DockerfileDiagnostic[] = [...rp.diagnostics];
  const instructions: Instruction[] = [];
  const globalArgs: ArgInstruction[] = [];
  const stages: { index: number; from: FromInstruction; name?: string; instructions: Instruction[]; span: Span }[] = [];
  const raw: RawNode[] = [];

  for (const ri of rp.instructions) {
    raw.push(ri.node);
    const rawText = rp.text.slice(ri.startOffset, ri.endOffset);
    const keyword = firstWord(ri.node.original);
    const r = typeInstruction(ri.node, { span: ri.span, raw: rawText, original: ri.node.original, keyword, comments: ri.comments });
    for (const p of r.problems) {
      diagnostics.push({
        code: p.code,
        severity: p.severity ?? "error",
        message: p.message,
        span: p.flag ? flagSpan(rp.text, rp.lineStarts, ri, p.flag) : keywordSpan(ri, keyword),
        ...(p.hint ? { hint: p.hint } : {}),
      });
    }
    const ins = r.instruction;
    if (!ins) continue;
    const bad = checkWords(ins, rp.escapeToken);
    if (bad) {
      diagnostics.push({
        code: "DF_PARSE_BAD_WORD",
        severity: "error",
        message: bad.message,
        span: flagSpan(rp.text, rp.lineStarts, ri, bad.word),
        hint: "BuildKit expands this word when it converts the Dockerfile; quote or escape it so that it is one valid shell word.",
      });
    }
    instructions.push(ins);
    if (ins.kind === "FROM") {
      stages.push({ index: stages.length, from: ins, ...(ins.stageNameLower ? { name: ins.stageNameLower } : {}), instructions: [], span: ins.span });
      continue;
    }
    const cur = stages[stages.length - 1];
    if (!cur) {
      if (ins.kind === "ARG") {
        globalArgs.push(ins);
        continue;
      }
      diagnostics.push({
        code: "DF_PARSE_NO_STAGE",
        severity: "error",
        message: "no build stage in current context",
        span: keywordSpan(ri, keyword),
        hint: "Only ARG may come before the first FROM.",
      });
      continue;
    }
    cur.instructions.push(ins);
    cur.span = { start: cur.span.start, end: ins.span.end };
  }

  const syntax = rp.directives.find((d) => d.name === "syntax")?.value;
  const ast: DockerfileAst = {
    directives: rp.directives,
    escapeToken: rp.escapeToken,
    ...(syntax !== undefined ? { syntax } : {}),
    globalArgs,
    stages: stages as Stage[],
    instructions,
    trailingComments: rp.trailingComments,
    raw,
  };
  if (opts.lint !== false) diagnostics.push(...lintDockerfile(ast));
  applyCheckDirective(ast, diagnostics);
  // After the check directive: these are errors the build would stop at, not advisory rules.
  diagnostics.push(...validateDockerfile(ast, opts.env));
  diagnostics.sort((a, b) => a.span.start.line - b.span.start.line || a.span.start.column - b.span.start.column);
  return { ast, diagnostics };
}

function firstWord(s: string): string {
  let i = 0;
  while (i < s.length && isGoSpace(s.charCodeAt(i))) i++;
  let j = i;
  while (j < s.length && !isGoSpace(s.charCodeAt(j))) j++;
  return s.slice(i, j);
}

function keywordSpan(ri: RawInstruction, keyword: string): Span {
  const line = ri.span.start.line;
  return mkSpan(line, ri.column, line, ri.column + Math.max(keyword.length, 1) - 1);
}

/** Points at the flag word on the instruction's lines when it can be found there. */
function flagSpan(text: string, lineStarts: number[], ri: RawInstruction, flag: string): Span {
  const region = text.slice(ri.startOffset, ri.endOffset);
  const at = region.indexOf(flag);
  const nameOnly = flag.split("=")[0]!;
  const idx = at >= 0 ? at : region.indexOf(nameOnly);
  if (idx < 0) return keywordSpan(ri, firstWord(ri.node.original));
  const abs = ri.startOffset + idx;
  let line = ri.span.start.line - 1;
  while (line + 1 < lineStarts.length && lineStarts[line + 1]! <= abs) line++;
  const col = abs - lineStarts[line]! + 1;
  const len = at >= 0 ? flag.length : nameOnly.length;
  return mkSpan(line + 1, col, line + 1, col + len - 1);
}

/** `# check=skip=A,B;error=true`: drop skipped rules, turn warnings into errors. */
function applyCheckDirective(ast: DockerfileAst, diagnostics: DockerfileDiagnostic[]): void {
  const d = ast.directives.find((x) => x.name === "check");
  if (!d) return;
  let skip = new Set<string>();
  let all = false;
  let asError = false;
  for (const part of d.value.split(";")) {
    const eq = part.indexOf("=");
    const k = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    const v = eq < 0 ? "" : part.slice(eq + 1).trim();
    if (k === "skip") {
      skip = new Set(v.split(",").map((s) => s.trim().toLowerCase()));
      all = skip.has("all");
    } else if (k === "error") asError = v.toLowerCase() === "true";
  }
  for (let i = diagnostics.length - 1; i >= 0; i--) {
    const x = diagnostics[i]!;
    if (!x.rule) continue;
    if (all || skip.has(x.rule.toLowerCase())) diagnostics.splice(i, 1);
    else if (asError && x.severity === "warning") diagnostics[i] = { ...x, severity: "error" };
  }
}
