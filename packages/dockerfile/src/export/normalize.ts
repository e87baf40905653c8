import type { ImportedDockerfile } from "../import/import-dockerfile.ts";
import { exportDockerfile, type ExportOptions, type ExportResult } from "./export-dockerfile.ts";
import { keptComments } from "./kept-comments.ts";

/**
 * A whole Dockerfile written again by the exporter (`strata dockerfile Dockerfile`): every stage
 * under its name (so every target stays a target), in file order, with every comment before the
 * instruction it precedes and the `# syntax=` / `# check=` directives at the top.
 */
export function normalizeDockerfile(imported: ImportedDockerfile, text: string, opts: Omit<ExportOptions, "stages" | "comments" | "globalArgComments" | "trailingComments" | "escapeToken"> = {}): ExportResult {
  const kept = keptComments(imported, text);
  const last = imported.stages[imported.stages.length - 1]!;
  const result = exportDockerfile(last.image.toGraph(), {
    ...opts,
    ...(last.name !== undefined ? { targetName: last.name } : {}),
    stages: imported.stages.map((s, i) => ({ graph: s.image.toGraph(), name: s.name, comments: kept.stages[i] ?? [] })),
    comments: kept.byLine,
    globalArgComments: kept.globalArgs,
    trailingComments: kept.trailing,
    escapeToken: imported.ast.escapeToken,
  });
  return kept.header.length ? { ...result, dockerfile: `${kept.header.join("\n")}\n${result.dockerfile}` } : result;
}
