import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { parsePlatform, StrataError, type Platform, type SourceLocation } from "@strata/graph";
import type { LockEntry } from "@strata/engine";
import type { CommandSpec, ParsedArgs } from "../argv.ts";
import { usageError } from "../argv.ts";
import type { CliContext } from "../context.ts";
import { loadGraphs } from "../load/load-target.ts";
import { strataHome } from "../load/strata-home.ts";
import { displayPath } from "../ui/code-frame.ts";
import { baseImageResolver } from "./build-resolvers.ts";
import { hostPlatform } from "./build.ts";
import { INSECURE_REGISTRY, registryMirror } from "./registry-flags.ts";

export const spec: CommandSpec = {
  name: "lock",
  summary: "Pin every registry image of an image module or Dockerfile to a digest in strata.lock.",
  usage: "strata lock [FILE] [--target NAME...] [--platform OS/ARCH...] [--build-arg K=V...] [--check]",
  description:
    "Resolves each registry image the targets start from (all targets by default; build args take\n" +
    "their defaults unless --build-arg sets them) to the manifest digest of the platform image, and\n" +
    "writes strata.lock beside FILE (atomically). Builds then use those digests without asking the\n" +
    "registry; `strata build --locked` fails if a reference is missing from the lock. Run it again to\n" +
    "move the pins to what the tags name now. --check only verifies that the lock covers every\n" +
    "reference (no network). Platforms default to those the lock was made for, else this machine's.",
  positionals: { min: 0, max: 1 },
  options: [
    { name: "target", type: "list", placeholder: "NAME", description: "lock only this export or stage (entries of other targets are kept)" },
    { name: "platform", type: "list", placeholder: "OS/ARCH", description: "a platform to lock for" },
    { name: "build-arg", type: "list", placeholder: "K=V", description: "set a build arg (as the build will)" },
    { name: "image", type: "list", placeholder: "REF=SOURCE", description: "an override the build will use (registry:OTHER/REF is locked instead of REF; local sources are skipped)" },
    registryMirror("resolve"),
    INSECURE_REGISTRY,
    { name: "check", type: "boolean", description: "fail if the lock is missing or lacks a reference; change nothing" },
  ],
  examples: ["strata lock app.image.ts", "strata lock Dockerfile --platform linux/amd64 --platform linux/arm64", "strata lock --check"],
};

interface Wanted {
  readonly key: string;
  readonly platform: string;
  readonly ref: string;
  readonly platformValue: Platform;
  readonly location?: SourceLocation;
}

export async function run(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const o = args.options;
  const list = (k: string) => (o[k] as string[] | undefined) ?? [];
  const file = args.positionals[0] ?? defaultInput(ctx.cwd);
  const build = await import("@strata/engine");
  const { lockfilePath, readLockfile, writeLockfile, formatLockfile, normalizeLockfile, imageReferences, lockKey, lockPlatform, parseImageOverrides, findOverride, Store } = build;
  const all = await loadGraphs(file, ctx);
  const lockPath = lockfilePath(dirname(all.file));
  const existing = readLockfile(lockPath);

  // Which graphs, platforms and args: as the builds will see them.
  const names = list("target").map((t) => (all.kind === "dockerfile" ? t.toLowerCase() : t));
  for (const n of names) {
    if (!all.targets.has(n)) throw new StrataError("STRATA_UNKNOWN_TARGET", `no target ${JSON.stringify(n)} in ${file}`, { hint: `targets: ${[...all.targets.keys()].join(", ")}` });
  }
  const graphs = names.length ? names.map((n) => all.targets.get(n)!) : [...all.targets.values()];
  let platforms: Platform[];
  try {
    platforms = list("platform").length ? list("platform").map(parsePlatform) : existing?.platforms?.length ? existing.platforms.map(parsePlatform) : [hostPlatform()];
  } catch (e) {
    throw usageError((e as Error).message, spec);
  }
  const buildArgs: Record<string, string> = {};
  for (const kv of list("build-arg")) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw usageError(`--build-arg ${kv}: expected NAME=VALUE`, spec);
    buildArgs[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const overrides = parseImageOverrides(list("image"), ctx.cwd);

  const wanted = new Map<string, Wanted>();
  for (const graph of graphs) {
    for (const platform of platforms) {
      for (const r of imageReferences(graph, { buildArgs, platform, buildPlatform: hostPlatform() })) {
        if (r.transport !== "registry") continue;
        const over = findOverride(overrides, r.ref);
        if (over && over.transport !== "registry") continue;
        const ref = over?.ref ?? r.ref;
        let key: string;
        try {
          key = lockKey(ref);
        } catch (e) {
          throw new StrataError("STRATA_BAD_IMAGE_REF", (e as Error).message, { locations: [r.location] });
        }
        const p = lockPlatform(r.platform);
        wanted.set(`${key} ${p}`, { key, platform: p, ref, platformValue: r.platform, ...(r.location ? { location: r.location } : {}) });
      }
    }
  }
  const platformKeys = platforms.map(lockPlatform);

  if (o.check) {
    if (!existing) throw new StrataError("STRATA_LOCKFILE_MISSING", `there is no lockfile at ${lockPath}`, { hint: `run \`strata lock ${file}\`` });
    // A reference with a digest pins itself (as in `build --locked`): only tags need an entry.
    const missing = [...wanted.values()].filter((w) => !existing.images[w.key]?.[w.platform] && !w.key.includes("@"));
    if (missing.length) {
      throw new StrataError("STRATA_LOCKFILE_STALE", `${displayPath(lockPath, ctx.cwd)} lacks ${missing.length} reference${missing.length > 1 ? "s" : ""}: ${missing.map((m) => `${m.key} (${m.platform})`).join(", ")}`, {
        hint: `run \`strata lock ${file}\` to update it`,
        locations: missing.map((m) => m.location),
      });
    }
    ctx.stderr(`${displayPath(lockPath, ctx.cwd)} covers all ${wanted.size} image reference${wanted.size === 1 ? "" : "s"}\n`);
    return 0;
  }

  const store = new Store(strataHome(ctx.env));
  const resolver = await baseImageResolver(store, { moduleDir: dirname(all.file), overrides: [], mirrors: list("registry-mirror"), insecure: list("insecure-registry") }, ctx, (m) => ctx.stderr(`${m}\n`));
  const { parseReference, familiarString } = await import("@strata/registry");
  // Keep what this run does not re-resolve: other targets' entries (with --target), other platforms.
  const partial = names.length > 0 || (list("platform").length > 0 && existing !== undefined);
  const images: Record<string, Record<string, LockEntry>> = {};
  if (partial && existing) for (const [k, v] of Object.entries(existing.images)) images[k] = { ...v };
  const entries = [...wanted.values()];
  const results = await Promise.all(
    entries.map(async (w) => {
      try {
        return await resolver.resolveReference(parseReference(w.ref), w.platformValue);
      } catch (e) {
        throw e instanceof StrataError && !e.locations.length && w.location ? e.withLocation(w.location) : e;
      }
    }),
  );
  entries.forEach((w, i) => {
    const r = results[i]!;
    images[w.key] = { ...images[w.key], [w.platform]: { digest: r.digest, ...(r.index ? { index: r.index } : {}) } };
    const before = existing?.images[w.key]?.[w.platform]?.digest;
    const what = before === undefined ? "locked" : before === r.digest ? "unchanged" : "updated";
    ctx.stderr(`  ${what.padEnd(9)} ${familiarString(parseReference(w.ref))} (${w.platform}) ${r.digest}\n`);
  });
  const lock = normalizeLockfile(images, partial && existing?.platforms ? [...existing.platforms, ...platformKeys] : platformKeys);
  const rel = displayPath(lockPath, ctx.cwd);
  if (existing && formatLockfile(existing) === formatLockfile(lock)) {
    ctx.stderr(`${rel} is up to date (${entries.length} image reference${entries.length === 1 ? "" : "s"})\n`);
    return 0;
  }
  writeLockfile(lockPath, lock);
  ctx.stderr(`wrote ${rel} (${entries.length} image reference${entries.length === 1 ? "" : "s"})\n`);
  return 0;
}

function defaultInput(cwd: string): string {
  const modules = readdirSync(cwd).filter((f) => f.endsWith(".image.ts"));
  if (modules.length === 1) return modules[0]!;
  if (existsSync(join(cwd, "Dockerfile"))) return "Dockerfile";
  throw usageError(modules.length ? `several image modules here (${modules.join(", ")}): name one` : "no FILE given and no *.image.ts or Dockerfile here", spec);
}
