/**
 * The JSON form of a parse (`strata parse --json`): the typed AST with spans and the
 * diagnostics. Plain data, stable key order (as built); the raw tree is left out (see dumpAst).
 */
import type { DockerfileAst, DockerfileDiagnostic, ParseResult } from "./types.ts";

export interface DockerfileJson {
  readonly version: 1;
  readonly escapeToken: string;
  readonly syntax?: string;
  readonly directives: DockerfileAst["directives"];
  readonly globalArgs: DockerfileAst["globalArgs"];
  readonly stages: DockerfileAst["stages"];
  readonly trailingComments: DockerfileAst["trailingComments"];
  readonly diagnostics: readonly DockerfileDiagnostic[];
}

export function toJson(result: ParseResult): DockerfileJson {
  const { ast } = result;
  return {
    version: 1,
    escapeToken: ast.escapeToken,
    ...(ast.syntax !== undefined ? { syntax: ast.syntax } : {}),
    directives: ast.directives,
    globalArgs: ast.globalArgs,
    stages: ast.stages,
    trailingComments: ast.trailingComments,
    diagnostics: result.diagnostics,
  };
}
