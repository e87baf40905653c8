import type { CommandSpec, ParsedArgs } from "../argv.ts";
import type { CliContext } from "../context.ts";
import { strataHome } from "../load/strata-home.ts";
import { formatBytes } from "../ui/progress.ts";
import { shortId } from "./image-ref.ts";

export const spec: CommandSpec = {
  name: "images",
  summary: "List the images in the store: name, image ID, created, size, shared size.",
  usage: "strata images [--format table|json] [--no-trunc]",
  description:
    "One row per name. SIZE is the uncompressed bytes of the image's layers (as docker shows it); SHARED is\n" +
    "the part in layers other images of the store use too. The IMAGE ID is the config's digest.",
  options: [
    { name: "format", type: "string", values: ["table", "json"], description: "output format (json: one array with every field)" },
    { name: "no-trunc", type: "boolean", description: "full image IDs" },
  ],
  examples: ["strata images", "strata images --format json"],
};

export async function run(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const { Store, listImages } = await import("@strata/engine");
  const images = await listImages(new Store(strataHome(ctx.env)));
  if (args.options.format === "json") {
    ctx.stdout(`${JSON.stringify(images, null, 2)}\n`);
    return 0;
  }
  const rows = [["NAME", "IMAGE ID", "CREATED", "PLATFORM", "LAYERS", "SIZE", "SHARED"]];
  for (const i of images) {
    for (const n of i.names) {
      rows.push([n, args.options["no-trunc"] ? i.id : shortId(i.id), i.created?.replace(/\.\d+Z$/, "Z") ?? "-", i.platform, String(i.layers), formatBytes(i.size), formatBytes(i.sharedSize)]);
    }
  }
  ctx.stdout(table(rows));
  return 0;
}

/** Left-aligned columns separated by three spaces, as docker prints them. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return `${rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join("   ")).join("\n")}\n`;
}
