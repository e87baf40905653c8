import type { CommandSpec, ParsedArgs } from "../argv.ts";
import type { CliContext } from "../context.ts";
import { strataHome } from "../load/strata-home.ts";
import { formatBytes } from "../ui/progress.ts";
import { table } from "./images.ts";
import { normalizeImageName, shortId } from "./image-ref.ts";

export const spec: CommandSpec = {
  name: "history",
  summary: "Show the history of an image: each step, the layer it made and its size.",
  usage: "strata history IMAGE [--format table|json] [--no-trunc]",
  description:
    "Newest step first, as docker prints it. SOURCE is the .image.ts call or Dockerfile line of the step,\n" +
    "for images this store built. Steps that changed only the config have no layer (size 0).",
  positionals: { min: 1, max: 1 },
  options: [
    { name: "format", type: "string", values: ["table", "json"], description: "output format" },
    { name: "no-trunc", type: "boolean", description: "do not shorten the CREATED BY text" },
  ],
  examples: ["strata history app:dev"],
};

export async function run(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const { Store, resolveImage, inspectImage } = await import("@strata/engine");
  const store = new Store(strataHome(ctx.env));
  const details = await inspectImage(store, await resolveImage(store, await normalizeImageName(args.positionals[0]!)));
  let layer = 0;
  const rows = details.history.map((h) => {
    const l = h.empty_layer ? undefined : details.layers[layer++];
    return { createdBy: h.created_by ?? "", created: h.created, comment: h.comment, location: h.location ?? l?.location, layer: l?.diffId, size: l?.size ?? 0 };
  });
  rows.reverse();
  if (args.options.format === "json") {
    ctx.stdout(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  const trunc = (s: string) => (args.options["no-trunc"] || s.length <= 60 ? s : `${s.slice(0, 59)}…`);
  const out = [["LAYER", "CREATED", "CREATED BY", "SIZE", "SOURCE"]];
  for (const r of rows) out.push([r.layer ? shortId(r.layer) : "<none>", r.created?.replace(/\.\d+Z$/, "Z") ?? "-", trunc(r.createdBy), formatBytes(r.size), r.location ?? ""]);
  ctx.stdout(table(out));
  return 0;
}
