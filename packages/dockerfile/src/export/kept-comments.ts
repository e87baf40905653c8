import type { ImportedDockerfile } from "../import/import-dockerfile.ts";
import type { DockerfileAst, Instruction } from "../parser/types.ts";

/** What `exportDockerfile` needs to keep a Dockerfile's comments and directives when normalising it. */
export interface KeptComments {
  readonly header: readonly string[];
  readonly byLine: ReadonlyMap<number, readonly string[]>;
  readonly globalArgs: ReadonlyMap<string, readonly string[]>;
  readonly stages: ReadonlyArray<readonly string[]>;
  readonly trailing: readonly string[];
}

/**
 * Every comment of the file, attached to the instruction it precedes (by that instruction's
 * line): the block before it and the comment lines inside its continuation lines (BuildKit
 * drops those from the instruction; they stay above it). `# syntax=` and `# check=` directives
 * stay at the top (the exporter writes `# escape=` itself).
 */
export function keptComments(imported: ImportedDockerfile, text: string): KeptComments {
  const lines = text.replace(/^\ufeff/, "").split("\n").map((l) => l.replace(/\r$/, ""));
  const ast: DockerfileAst = imported.ast;
  const source = (line: number) => (lines[line - 1] ?? "").trim();
  const block = (comments: Instruction["comments"]) => comments.map((c) => source(c.span.start.line));
  const inner = (ins: Instruction): string[] => {
    if ("heredocs" in ins && ins.heredocs.length) return []; // a heredoc body's `#` lines are its content
    const out: string[] = [];
    for (let l = ins.span.start.line + 1; l <= ins.span.end.line; l++) if (source(l).startsWith("#")) out.push(source(l));
    return out;
  };
  const byLine = new Map<number, string[]>();
  const attach = (ins: Instruction) => {
    const c = [...block(ins.comments), ...inner(ins)];
    if (c.length) byLine.set(ins.span.start.line, c);
  };
  const globalArgs = new Map<string, string[]>();
  for (const ins of ast.globalArgs) {
    const c = [...block(ins.comments), ...inner(ins)];
    const first = ins.args[0];
    if (c.length && first) globalArgs.set(first.name, [...(globalArgs.get(first.name) ?? []), ...c]);
  }
  const stages = ast.stages.map((s) => {
    for (const ins of s.instructions) attach(ins);
    return [...block(s.from.comments), ...inner(s.from)];
  });
  const header = ast.directives.filter((d) => d.name !== "escape").map((d) => source(d.span.start.line));
  return { header, byLine, globalArgs, stages, trailing: ast.trailingComments.map((c) => source(c.span.start.line)) };
}
