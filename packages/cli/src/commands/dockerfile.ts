import { resolve } from "node:path";
import { imageDigest, referencedImages, StrataError, type LayerGraph } from "@strata/graph";
import type { CommandSpec, ParsedArgs } from "../argv.ts";
import type { CliContext } from "../context.ts";
import { loadTarget } from "../load/load-target.ts";
import { writeOutput } from "../ui/write-output.ts";

export const spec: CommandSpec = {
  name: "dockerfile",
  summary: "Write a target as a Dockerfile (or normalise a Dockerfile).",
  usage: "strata dockerfile FILE [--target NAME] [-o OUT] [--syntax latest|docker-20.10]",
  description:
    "FILE is a .image.ts module or a Dockerfile. The output builds the same image: it is imported again\n" +
    "and must give the same graph digest, or nothing is written. What a Dockerfile cannot express\n" +
    "(withoutEnv(), a merge, per-copy context filters that differ) is an error naming the call site.\n" +
    "When the context needs a .dockerignore, -o OUT also writes OUT.dockerignore (stdout: a note).\n" +
    "--syntax docker-20.10 avoids what Docker 20.10's built-in frontend lacks (heredocs, --link, …).\n" +
    "Normalising a Dockerfile (no --target) keeps every stage under its name and every comment.",
  positionals: { min: 1, max: 1 },
  options: [
    { name: "target", type: "string", placeholder: "NAME", description: "the export or stage to write (default: the default export / last stage)" },
    { name: "output", short: "o", type: "string", placeholder: "OUT", description: "write to this file instead of stdout" },
    { name: "syntax", type: "string", values: ["latest", "dockerfile-1.4", "docker-20.10"], description: "Dockerfile syntax level of the reader (default latest)" },
  ],
  examples: ["strata dockerfile examples/go-static/app.image.ts", "strata dockerfile Dockerfile -o Dockerfile.normalized"],
};

export async function run(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const file = args.positionals[0]!;
  const loaded = await loadTarget(file, args.options.target as string | undefined, ctx);
  const { exportDockerfile, importDockerfile, normalizeDockerfile, pickStage } = await import("@strata/dockerfile");
  const graph = loaded.graph;
  const stageNames = namesByDigest(loaded.all.targets, graph);
  // Normalising a whole Dockerfile (no --target) keeps every stage, every target name and every comment.
  const whole = loaded.all.dockerfile && args.options.target === undefined ? loaded.all.dockerfile : undefined;
  const syntax = ((args.options.syntax as string | undefined) ?? "latest") as "latest" | "dockerfile-1.4" | "docker-20.10";
  const result = whole
    ? normalizeDockerfile(whole.imported, whole.text, { stageNames, syntax })
    : exportDockerfile(graph, {
        ...(loaded.all.kind === "image-module" && loaded.name !== "default" ? { targetName: loaded.name } : {}),
        ...(loaded.all.kind === "dockerfile" && !/^\d+$/.test(loaded.name) ? { targetName: loaded.name } : {}),
        stageNames,
        syntax,
      });
  // The invariant, checked on every export: the Dockerfile imports back to the same graph.
  const dockerfile = result.dockerfile;
  const reimported = importDockerfile(dockerfile, {
    file: "(exported Dockerfile)",
    ...(result.dockerignore ? { ignore: result.dockerignore.trim().split("\n") } : {}),
    ...(result.contextPath !== undefined ? { contextPath: result.contextPath } : {}),
    daemonImages: result.daemonImages,
  });
  const back = pickStage(reimported, undefined).image.toGraph();
  // Every named stage of a normalised Dockerfile is still that target.
  const lost = (whole?.imported.stages ?? []).filter((s) => s.name !== undefined && reimported.stages.find((b) => b.name === s.name)?.image.digest !== s.image.digest);
  if (back.digest !== graph.digest || lost.length) {
    throw new StrataError("STRATA_EXPORT_MISMATCH", "the exported Dockerfile would build a different image", {
      hint: "this is a bug in strata's exporter; please report it with the input file",
    });
  }
  const out = args.options.output as string | undefined;
  if (out) {
    const path = resolve(ctx.cwd, out);
    writeOutput(path, dockerfile);
    if (result.dockerignore) writeOutput(`${path}.dockerignore`, result.dockerignore);
  } else {
    ctx.stdout(dockerfile);
    if (result.dockerignore) ctx.stderr(`note: the build context needs this .dockerignore:\n${result.dockerignore.replace(/^/gm, "  ")}`);
  }
  for (const name of result.daemonImages) ctx.stderr(`note: ${name} is an image of the local Docker daemon (docker build finds it there)\n`);
  if (result.contextPath !== undefined) ctx.stderr(`note: build with ${result.contextPath} (beside the module) as the build context\n`);
  for (const [name, path] of Object.entries(result.contexts)) ctx.stderr(`note: build with --build-context ${name}=${path}\n`);
  return 0;
}

/** Export names of a module's other targets, by image digest, to name the stages they become. */
function namesByDigest(targets: ReadonlyMap<string, LayerGraph>, graph: LayerGraph): Map<string, string> {
  const wanted = new Set(referencedImages(graph).map(imageDigest));
  const names = new Map<string, string>();
  for (const [name, g] of targets) if (name !== "default" && !/^\d+$/.test(name) && wanted.has(g.digest)) names.set(g.digest, name);
  return names;
}
