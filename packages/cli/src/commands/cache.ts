import { StrataError } from "@strata/graph";
import type { CommandSpec, ParsedArgs } from "../argv.ts";
import { usageError } from "../argv.ts";
import type { CliContext } from "../context.ts";
import { strataHome } from "../load/strata-home.ts";
import { formatBytes } from "../ui/progress.ts";

export const spec: CommandSpec = {
  name: "cache",
  summary: "Show or free the space Strata's store uses.",
  usage: "strata cache du | strata cache prune [--all] [--filter until=DURATION] [--keep-storage SIZE] [--wait]",
  description:
    "du: disk space per area of $STRATA_HOME (default ~/.cache/strata): blobs, cache records, snapshots,\n" +
    "cache mounts, logs, the module caches…; the total is what `du -s -B1 $STRATA_HOME` reports.\n" +
    "prune (as `docker builder prune`): removes the build cache (cached steps, layer snapshots, temp\n" +
    "files, logs) and every blob that no named image (`strata build -t`) uses; --all removes everything,\n" +
    "named images, cache mounts and module caches included. --filter until=24h removes only what was\n" +
    "written more than 24h ago; --keep-storage 5GB removes the oldest entries until at most 5 GB is used.\n" +
    "Prune never breaks a build: while builds run it prunes nothing and says so (--wait waits for them),\n" +
    "and builds that start while it runs wait for it.",
  positionals: { min: 1, max: 1 },
  unsupported: { "reserved-space": "--reserved-space is a docker builder prune flag that Strata does not support (use --keep-storage)", "max-used-space": "--max-used-space is a docker builder prune flag that Strata does not support (use --keep-storage)", "min-free-space": "--min-free-space is a docker builder prune flag that Strata does not support (use --keep-storage)" },
  options: [
    { name: "all", short: "a", type: "boolean", description: "prune: remove everything" },
    { name: "filter", type: "list", placeholder: "until=DURATION", description: "prune: only entries last written longer ago than DURATION (e.g. 90m, 24h, 7d; docker's 1h30m too)" },
    { name: "keep-storage", type: "string", placeholder: "SIZE", description: "prune: remove the oldest entries until at most SIZE is used (e.g. 512MB, 10GB)" },
    { name: "wait", type: "boolean", description: "prune: wait for running builds instead of skipping" },
    { name: "force", short: "f", type: "boolean", description: "prune: do not prompt (docker's -f; Strata never prompts)" },
  ],
  examples: ["strata cache du", "strata cache prune", "strata cache prune --filter until=24h --keep-storage 10GB"],
};

/** `90m`, `24h`, `7d`, `1h30m`, `45s` → milliseconds. */
export function parseDuration(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)];
  if (!parts.length || parts.map((p) => p[0]).join("") !== text) throw usageError(`--filter until=${text}: expected a duration such as 30m, 24h or 7d`, spec);
  return parts.reduce((n, p) => n + Number(p[1]) * units[p[2]!]!, 0);
}

/** `10GB`, `512MiB`, `1.5g`, `100000` (bytes) → bytes (docker's units: k/m/g/t, decimal for kB/MB, binary for KiB/MiB). */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)(b?)$/i.exec(text.trim());
  if (!m) throw usageError(`--keep-storage ${text}: expected a size such as 512MB or 10GB`, spec);
  const power = " kmgt".indexOf(m[2]!.toLowerCase() || " ");
  const base = m[3] ? 1024 : m[2] && !m[4] ? 1024 : 1000;
  return Math.floor(Number(m[1]) * base ** power);
}

export async function run(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const { Store, pruneStore, listRefs, storeUsage } = await import("@strata/engine");
  const store = new Store(strataHome(ctx.env));
  const sub = args.positionals[0];
  const o = args.options;
  if (sub === "du") {
    const { home, rows, total } = storeUsage(store);
    ctx.stdout(`${home}\n`);
    for (const r of rows) ctx.stdout(`  ${r.area.padEnd(16)}${formatBytes(r.disk).padStart(11)}  ${String(r.entries).padStart(7)} entries  ${r.description}\n`);
    ctx.stdout(`  ${"total".padEnd(16)}${formatBytes(total.disk).padStart(11)}  ${String(total.entries).padStart(7)} entries  (${total.disk} bytes on disk, ${total.bytes} apparent)\n`);
    const refs = listRefs(store);
    if (refs.length) ctx.stdout(`named images: ${refs.map((r) => r.name).join(", ")}\n`);
    return 0;
  }
  if (sub === "prune") {
    let olderThanMs: number | undefined;
    for (const f of (o.filter as string[] | undefined) ?? []) {
      const eq = f.indexOf("=");
      const key = f.slice(0, eq);
      if (key !== "until") throw usageError(`--filter ${f}: Strata's cache has only the until= filter`, spec);
      olderThanMs = parseDuration(f.slice(eq + 1));
    }
    const keepStorage = o["keep-storage"] !== undefined ? parseSize(o["keep-storage"] as string) : undefined;
    if (o.all && (olderThanMs !== undefined || keepStorage !== undefined)) throw usageError("--all removes everything: it takes no --filter or --keep-storage", spec);
    const abort = new AbortController();
    const onSignal = () => abort.abort();
    process.once("SIGINT", onSignal);
    try {
      const r = await pruneStore(store, {
        all: o.all === true,
        wait: o.wait === true,
        ...(olderThanMs !== undefined ? { olderThanMs } : {}),
        ...(keepStorage !== undefined ? { keepStorage } : {}),
        signal: abort.signal,
        onWait: (pids) => ctx.stderr(`waiting for ${pids.length} running build${pids.length > 1 ? "s" : ""} (pid ${pids.join(", ")})…\n`),
      });
      if (r.skippedFor) {
        ctx.stderr(`pruned nothing: ${r.skippedFor.length} build${r.skippedFor.length > 1 ? "s are" : " is"} running (pid ${r.skippedFor.join(", ")}); --wait waits for them\n`);
        ctx.stdout("freed 0 B\n");
        return 0;
      }
      ctx.stdout(`freed ${formatBytes(r.freedBytes)} (${r.removedEntries} cache entries, ${r.removedBlobs} blobs)\n`);
      return 0;
    } catch (e) {
      if (abort.signal.aborted) throw new StrataError("STRATA_PRUNE_ABORTED", "prune was interrupted", { hint: "nothing was half-removed: every entry is removed whole or kept" });
      throw e;
    } finally {
      process.off("SIGINT", onSignal);
    }
  }
  throw usageError(`unknown cache command ${JSON.stringify(sub)}`, spec);
}
