import type { CommandSpec, ParsedArgs } from "../argv.ts";
import type { CliContext } from "../context.ts";
import { strataHome } from "../load/strata-home.ts";
import { normalizeImageName } from "./image-ref.ts";

export const spec: CommandSpec = {
  name: "rmi",
  summary: "Remove images from the store (names, then content no other image uses).",
  usage: "strata rmi [--force] IMAGE...",
  description:
    "A name removes that name; the image's content (manifest, config, layers no other named image or kept\n" +
    "container uses) goes with its last name. An ID or digest with several names, or an image a container\n" +
    "kept by `strata run --name` uses, needs --force. While a build or `strata run` uses the store, only the\n" +
    "names are removed and `strata cache prune` frees the content later.",
  positionals: { min: 1, max: 1000 },
  options: [{ name: "force", short: "f", type: "boolean", description: "remove every name of an ID, and images containers use" }],
  examples: ["strata rmi app:dev", "strata rmi -f 3f2a9c1b7d4e"],
};

export async function run(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const { Store, removeImages } = await import("@strata/engine");
  const refs = await Promise.all(args.positionals.map((p) => normalizeImageName(p)));
  const r = await removeImages(new Store(strataHome(ctx.env)), refs, { force: args.options.force === true });
  for (const n of r.untagged) ctx.stdout(`Untagged: ${n}\n`);
  for (const d of r.deleted) ctx.stdout(`Deleted: ${d}\n`);
  if (r.deferred) ctx.stderr("note: a build or strata run is using the store; `strata cache prune` frees the content once it is done\n");
  return 0;
}
