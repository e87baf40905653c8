import { renderDot, renderJson, renderMermaid, graphToJson, type LayerGraph } from "@strata/graph";
import type { CommandSpec, ParsedArgs } from "../argv.ts";
import type { CliContext } from "../context.ts";
import { loadTarget } from "../load/load-target.ts";
import { displayPath } from "../ui/code-frame.ts";

export const spec: CommandSpec = {
  name: "graph",
  summary: "Print the layer graph of an image module or a Dockerfile.",
  usage: "strata graph FILE [--target NAME] [--format json|mermaid|dot]",
  description:
    "FILE is a .image.ts module or a Dockerfile (Dockerfile, *.Dockerfile, Dockerfile.*, Containerfile).\n" +
    'The JSON form has a top-level "digest": the identity of the whole image definition (filesystem ops,\n' +
    "config and history). It does not depend on where the files are checked out; build args stay symbolic.",
  positionals: { min: 1, max: 1 },
  options: [
    { name: "target", type: "string", placeholder: "NAME", description: "the export (or Dockerfile stage) to graph; default: the default export / last stage" },
    { name: "format", type: "string", values: ["json", "mermaid", "dot"], description: "output format (default json)" },
    { name: "no-locations", type: "boolean", description: "leave source locations out of the JSON" },
  ],
  examples: ["strata graph examples/hello/hello.image.ts", "strata graph Dockerfile --target build --format mermaid"],
};

export async function run(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const { graph } = await loadTarget(args.positionals[0]!, args.options.target as string | undefined, ctx);
  ctx.stdout(render(graph, (args.options.format as string | undefined) ?? "json", !args.options["no-locations"], ctx.cwd));
  return 0;
}

function render(graph: LayerGraph, format: string, locations: boolean, cwd: string): string {
  if (format === "mermaid") return renderMermaid(graph);
  if (format === "dot") return renderDot(graph);
  if (!locations) return renderJson(graph, { locations: false });
  // Locations are shown relative to the working directory: readable, and the same across checkouts.
  const json = graphToJson(graph);
  const rel = <T extends { location?: { file: string } }>(x: T): T => (x.location ? { ...x, location: { ...x.location, file: displayPath(x.location.file, cwd) } } : x);
  return `${JSON.stringify({ ...json, steps: json.steps.map(rel), nodes: json.nodes.map(rel) }, null, 2)}\n`;
}
