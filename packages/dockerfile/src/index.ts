// Parser: Dockerfile text → typed AST (+ BuildKit's raw tree) and diagnostics.
export { parseDockerfile, type ParseOptions } from "./parser/parse.ts";
export { dumpAst, dumpNode } from "./parser/dump.ts";
export { toJson, type DockerfileJson } from "./parser/json.ts";
export { goQuote } from "./parser/go-quote.ts";
export { heredocText } from "./parser/heredoc.ts";
export { toLocation, toGraphDiagnostic } from "./parser/diagnostics.ts";
export type * from "./parser/types.ts";
// Shell words: BuildKit's lexer, and conversion to/from the graph's templates.
export { expandWord, expandWords, processShellWord, ShellError, type Env, type LexOptions, type ProcessResult } from "./shell/lex.ts";
export { toTemplate, toTemplates, type TemplateOptions } from "./shell/to-template.ts";
export { fromTemplate, type FromTemplateOptions } from "./shell/from-template.ts";
export { heredocTemplate } from "./import/words.ts";
export { stageCandidates } from "./import/stage-candidates.ts";
export { lintDockerfile } from "./lint/checks.ts";
// Import (Dockerfile → the builders' Image values) and export (graph → Dockerfile).
export { importDockerfile, pickStage, type ImportOptions, type ImportedDockerfile } from "./import/import-dockerfile.ts";
export { exportDockerfile, INLINE_CONTEXT_DIR, type ContextFile, type ExportOptions, type ExportResult } from "./export/export-dockerfile.ts";
export { keptComments, type KeptComments } from "./export/kept-comments.ts";
export { normalizeDockerfile } from "./export/normalize.ts";
export { DOCKERFILE_SYNTAXES, syntaxFeatures, type DockerfileSyntax, type SyntaxFeatures } from "./export/syntax.ts";
