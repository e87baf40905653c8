import type { CommandSpec, ParsedArgs } from "../argv.ts";
import type { CliContext } from "../context.ts";
import { strataHome } from "../load/strata-home.ts";
import { newImageName, normalizeImageName } from "./image-ref.ts";

export const spec: CommandSpec = {
  name: "tag",
  summary: "Give an image in the store another name.",
  usage: "strata tag SOURCE TARGET",
  description: "SOURCE is a name, image ID or digest; TARGET a new NAME[:TAG] (an existing TARGET now names SOURCE).",
  positionals: { min: 2, max: 2 },
  options: [],
  examples: ["strata tag app:dev registry.example.com/app:1.0"],
};

export async function run(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const { Store, tagImage } = await import("@strata/engine");
  const target = await newImageName(args.positionals[1]!);
  await tagImage(new Store(strataHome(ctx.env)), await normalizeImageName(args.positionals[0]!), target);
  return 0;
}
