import type { CommandSpec, ParsedArgs } from "../argv.ts";
import type { CliContext } from "../context.ts";
import { strataHome } from "../load/strata-home.ts";
import { formatBytes } from "../ui/progress.ts";
import { normalizeImageName, shortId } from "./image-ref.ts";

export const spec: CommandSpec = {
  name: "inspect",
  summary: "Show an image of the store: config, manifest, layers and the step that made each.",
  usage: "strata inspect IMAGE [--layers] [--format text|json] [--all]",
  description:
    "Without --layers: the image's names, ID, platform, config (Env, Entrypoint, Cmd, WorkingDir, User,\n" +
    "ExposedPorts, Labels…), manifest digest and its layers, each with its sizes and the step that made\n" +
    "it (the history text and, for images built here, the .image.ts call or Dockerfile line).\n" +
    "With --layers (what `dive` shows): what each layer adds (+), changes (~) and removes (-), and the\n" +
    "bytes wasted on files a later layer overwrites or deletes (stored in the image, never visible).\n" +
    "--format json prints everything (the config and manifest in full, every changed path).",
  positionals: { min: 1, max: 1 },
  options: [
    { name: "layers", type: "boolean", description: "per layer: paths added, changed, removed; wasted bytes" },
    { name: "format", type: "string", values: ["text", "json"], description: "output format (default text)" },
    { name: "all", type: "boolean", description: "with --layers: list every path (text shows the 10 largest per kind)" },
  ],
  examples: ["strata inspect app:dev", "strata inspect app:dev --layers", "strata inspect app:dev --layers --format json"],
};

const SHOWN = 10;

export async function run(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const { Store, resolveImage, inspectImage, analyzeLayers } = await import("@strata/engine");
  const store = new Store(strataHome(ctx.env));
  const image = await resolveImage(store, await normalizeImageName(args.positionals[0]!));
  const details = await inspectImage(store, image);
  const json = args.options.format === "json";
  if (!args.options.layers) {
    if (json) {
      ctx.stdout(`${JSON.stringify(details, null, 2)}\n`);
      return 0;
    }
    const c = details.config;
    const cfg = c.config ?? {};
    const lines = [
      `Names:      ${details.names.join(", ") || "(none)"}`,
      `Image ID:   ${details.id}`,
      `Manifest:   ${details.manifestDigest} (${details.manifest.mediaType ?? "application/vnd.oci.image.manifest.v1+json"})`,
      `Platform:   ${[c.os, c.architecture, c.variant].filter(Boolean).join("/")}`,
      `Created:    ${c.created ?? "-"}${details.built ? ` (built here ${details.built.at}${details.built.target ? ` from ${details.built.target}` : ""})` : ""}`,
      "Config:",
      ...configLines(cfg as Record<string, unknown>),
      `Layers (${details.layers.length}, ${formatBytes(details.layers.reduce((n, l) => n + (l.size ?? 0), 0))}):`,
    ];
    for (const l of details.layers) {
      lines.push(`  ${String(l.index).padStart(2)}  ${shortId(l.diffId)}  ${formatBytes(l.size ?? 0).padStart(10)}  (${formatBytes(l.compressedSize)} as stored in the manifest)`);
      lines.push(`      ${l.createdBy || "(no history)"}${l.location ? `  [${l.location}]` : ""}`);
    }
    ctx.stdout(`${lines.join("\n")}\n`);
    return 0;
  }
  const report = await analyzeLayers(store, image);
  if (json) {
    const layers = report.layers.map((l) => ({ ...l, createdBy: details.layers[l.index]?.createdBy, location: details.layers[l.index]?.location }));
    ctx.stdout(`${JSON.stringify({ image: details.manifestDigest, id: details.id, ...report, layers }, null, 2)}\n`);
    return 0;
  }
  const all = args.options.all === true;
  const out: string[] = [];
  for (const l of report.layers) {
    const d = details.layers[l.index];
    out.push(`layer ${l.index}  ${shortId(l.diffId)}  ${formatBytes(l.size)}  ${d?.createdBy ?? ""}${d?.location ? `  [${d.location}]` : ""}`);
    out.push(`  +${l.added} added  ~${l.changed} changed  -${l.removed} removed${l.wastedBytes ? `  wasted: ${formatBytes(l.wastedBytes)} (overwritten or deleted later)` : ""}`);
    for (const kind of ["added", "changed", "removed"] as const) {
      const cs = l.changes.filter((c) => c.kind === kind && (kind !== "changed" || c.type !== "directory"));
      const shown = all ? cs : [...cs].sort((a, b) => (b.size || b.hiddenBytes || 0) - (a.size || a.hiddenBytes || 0)).slice(0, SHOWN);
      const mark = { added: "+", changed: "~", removed: "-" }[kind];
      for (const c of shown) {
        const bytes = kind === "removed" ? (c.hiddenBytes ? `hides ${formatBytes(c.hiddenBytes)}` : "") : c.type === "file" ? formatBytes(c.size) : c.type;
        out.push(`    ${mark} ${bytes.padStart(12)}  /${c.path}`);
      }
      if (shown.length < cs.length) out.push(`    … ${cs.length - shown.length} more ${kind} (--all lists them)`);
    }
  }
  out.push("");
  out.push(`files: ${formatBytes(report.fileBytes)}  wasted: ${formatBytes(report.wastedBytes)}  efficiency: ${(report.efficiency * 100).toFixed(2)}%`);
  for (const w of report.wasted.slice(0, all ? undefined : SHOWN)) {
    out.push(`  ${formatBytes(w.size).padStart(10)}  /${w.path}  (stored by layer ${w.layer}, hidden by layer ${w.hiddenBy})`);
  }
  ctx.stdout(`${out.join("\n")}\n`);
  return 0;
}

function configLines(cfg: Record<string, unknown>): string[] {
  const keys = ["User", "WorkingDir", "Entrypoint", "Cmd", "Env", "ExposedPorts", "Volumes", "Labels", "StopSignal", "Healthcheck", "Shell", "OnBuild"];
  const out: string[] = [];
  for (const k of keys) {
    const v = cfg[k];
    if (v === undefined || v === "" || (Array.isArray(v) && v.length === 0)) continue;
    if (k === "Env" && Array.isArray(v)) {
      out.push("  Env:");
      for (const e of v) out.push(`    ${String(e)}`);
    } else if (k === "ExposedPorts" || k === "Volumes") out.push(`  ${k}: ${Object.keys(v as object).join(", ")}${k === "ExposedPorts" ? " (informational: publish with strata run -p)" : ""}`);
    else out.push(`  ${k}: ${JSON.stringify(v)}`);
  }
  return out;
}
