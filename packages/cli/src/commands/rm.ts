import type { CommandSpec, ParsedArgs } from "../argv.ts";
import type { CliContext } from "../context.ts";
import { strataHome } from "../load/strata-home.ts";

export const spec: CommandSpec = {
  name: "rm",
  summary: "Remove containers kept by `strata run --name` (their writable layers).",
  usage: "strata rm [--force] NAME...",
  description: "A container run with --name keeps its writable layer after it exits; this removes it. A container\nwhose `strata run` is still running is refused unless --force.",
  positionals: { min: 1, max: 1000 },
  options: [{ name: "force", short: "f", type: "boolean", description: "remove even while its strata run is alive" }],
  examples: ["strata rm web"],
};

export async function run(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const { Store, removeContainer } = await import("@strata/engine");
  const store = new Store(strataHome(ctx.env));
  for (const name of args.positionals) {
    await removeContainer(store, name, { force: args.options.force === true });
    ctx.stdout(`${name}\n`);
  }
  return 0;
}
