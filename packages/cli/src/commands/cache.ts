
import type { CommandSpec, ParsedArgs } from "../argv.ts";
import { usageError } from "../argv.ts";
import type { CliContext } from "../context.ts";
import { strataHome } from "../load/strata-home.ts";
import { formatBytes } from "../ui/progress.ts";

export const spec: CommandSpec = {
  name: "cache",
  summary: "Show or free the space Strata's store uses.",
  usage: "strata cache du | strata cache prune [--all] [--force]",
  description:
    "du: bytes per area of the store ($STRATA_HOME, default ~/.cache/strata).\n" +
    "prune: removes the build cache (cached steps, layer snapshots, temp files, logs) and every blob\n" +
    "that no named image (`strata build -t`) uses; --all removes everything, named images and cache\n" +
    "mounts included. It refuses while a build is running (--force overrides).",
  positionals: { min: 1, max: 1 },
  options: [
    { name: "all", type: "boolean", description: "prune: remove everything" },
    { name: "force", type: "boolean", description: "prune: even while a build is running" },
  ],
  examples: ["strata cache du", "strata cache prune"],
};

export async function run(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const { Store, pruneStore, listRefs } = await import("@strata/engine");
  const store = new Store(strataHome(ctx.env));
  const sub = args.positionals[0];
  if (sub === "du") {
    const usage = store.usage();
    const rows = Object.entries(usage).filter(([, u]) => u.files > 0);
    const total = rows.reduce((n, [, u]) => n + u.bytes, 0);
    ctx.stdout(`${store.root}\n`);
    for (const [area, u] of rows) ctx.stdout(`  ${area.padEnd(14)}${formatBytes(u.bytes).padStart(12)}  ${u.files} files\n`);
    ctx.stdout(`  ${"total".padEnd(14)}${formatBytes(total).padStart(12)}\n`);
    const refs = listRefs(store);
    if (refs.length) ctx.stdout(`named images: ${refs.map((r) => r.name).join(", ")}\n`);
    return 0;
  }
  if (sub === "prune") {
    const r = await pruneStore(store, { all: args.options.all === true, force: args.options.force === true });
    ctx.stdout(`freed ${formatBytes(r.freedBytes)}${r.removedBlobs ? ` (${r.removedBlobs} blobs)` : ""}\n`);
    return 0;
  }
  throw usageError(`unknown cache command ${JSON.stringify(sub)}`, spec);
}


