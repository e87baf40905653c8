import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { imageDigest, referencedImages, type LayerGraph } from "@strata/graph";
import { exportDockerfile, importDockerfile, pickStage } from "@strata/dockerfile";
import type { Image } from "@strata/core";
import type { GeneratedModule } from "../../src/index.ts";
import { typeCheck } from "../../../cli/src/index.ts";
import { evaluateModule } from "./evaluate.ts";

const REPO = join(import.meta.dirname, "../../../..");

/**
 * Invariant 2: every export standing for a stage has that stage's digest (as the importer
 * makes it). Returns the differences (empty when the invariant holds) and the evaluated exports.
 */
export function digestMismatches(generated: GeneratedModule, source = generated.source): { mismatches: string[]; targets: Map<string, Image> } {
  const targets = evaluateModule(source);
  const mismatches: string[] = [];
  for (const t of generated.targets) {
    const want = generated.imported.stages.find((s) => (s.name ?? String(s.index)) === t.dockerfile)!.image.digest;
    if (!t.exports.length) mismatches.push(`stage ${t.dockerfile}: no export`);
    for (const name of t.exports) {
      const got = targets.get(name)?.digest;
      if (got !== want) mismatches.push(`stage ${t.dockerfile} / export ${name}: ${got ?? "missing"} != ${want}`);
    }
  }
  return { mismatches, targets };
}

/**
 * Invariant 3, as `strata dockerfile app.image.ts` runs it: export a target of the module
 * (stages named after the module's other exports) and import the Dockerfile back.
 * Returns undefined when the digest is the same, else the exported Dockerfile.
 */
export function exportMismatch(targets: ReadonlyMap<string, Image>, name: string): string | undefined {
  const graphs = new Map([...targets].map(([n, img]) => [n, img.toGraph()] as const));
  const graph = graphs.get(name)!;
  const result = exportDockerfile(graph, { ...(name !== "default" ? { targetName: name } : {}), stageNames: namesByDigest(graphs, graph) });
  const ignore = result.dockerignore ? { ignore: result.dockerignore.trim().split("\n") } : {};
  const back = pickStage(importDockerfile(result.dockerfile, { file: "(exported)", ...ignore }), undefined).image.toGraph();
  return back.digest === graph.digest ? undefined : result.dockerfile;
}

/** As packages/cli/src/commands/dockerfile.ts: other exports name the stages they become. */
function namesByDigest(targets: ReadonlyMap<string, LayerGraph>, graph: LayerGraph): Map<string, string> {
  const wanted = new Set(referencedImages(graph).map(imageDigest));
  const names = new Map<string, string>();
  for (const [name, g] of targets) if (name !== "default" && wanted.has(g.digest)) names.set(g.digest, name);
  return names;
}

/**
 * Invariant 1: the modules type-check with the CLI's checker (`strata check`), in one program,
 * inside a project like a user's (node_modules/@strata/core installed, the repository's strict
 * compiler options). Returns the error messages with their file:line.
 */
export async function typeErrors(sources: ReadonlyMap<string, string>): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "strata-codegen-tc-"));
  mkdirSync(join(dir, "node_modules", "@strata"), { recursive: true });
  for (const pkg of ["core", "graph"]) symlinkSync(join(REPO, "packages", pkg), join(dir, "node_modules", "@strata", pkg));
  symlinkSync(join(REPO, "node_modules", "@types"), join(dir, "node_modules", "@types"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
  // A Dockerfile may declare ARGs no instruction reads; their generated consts stay (the module
  // mirrors its Dockerfile), so the unused-locals lint is off for generated code.
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ extends: join(REPO, "tsconfig.base.json"), compilerOptions: { noUnusedLocals: false }, include: ["*.image.ts"] }));
  const files = [...sources].map(([name, text]) => {
    const path = join(dir, `${name.replace(/[^A-Za-z0-9_.-]/g, "_")}.image.ts`);
    writeFileSync(path, text);
    return path;
  });
  const diagnostics = await typeCheck(files);
  return diagnostics
    .filter((d) => d.diagnostic.severity === "error")
    .map((d) => `${d.diagnostic.locations?.[0]?.file ?? "?"}:${d.diagnostic.locations?.[0]?.line ?? 0}: ${d.diagnostic.code} ${d.diagnostic.message}`);
}
