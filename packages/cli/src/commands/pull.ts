import { parsePlatform, type Platform } from "@strata/graph";
import type { CommandSpec, ParsedArgs } from "../argv.ts";
import { usageError } from "../argv.ts";
import type { CliContext } from "../context.ts";
import { strataHome } from "../load/strata-home.ts";
import { formatBytes } from "../ui/progress.ts";
import { baseImageResolver } from "./build-resolvers.ts";
import { hostPlatform } from "./build.ts";
import { INSECURE_REGISTRY, registryMirror } from "./registry-flags.ts";

export const spec: CommandSpec = {
  name: "pull",
  summary: "Pull an image from a registry into Strata's store.",
  usage: "strata pull REF [--platform OS/ARCH] [options]",
  description:
    "Downloads the image REF names for the platform (every blob verified against its digest) into\n" +
    "Strata's store ($STRATA_HOME), records REF as a local name (for `strata push`), and prints the\n" +
    "platform image's manifest digest. Credentials come from Docker's config.json ($DOCKER_CONFIG).",
  positionals: { min: 1, max: 1 },
  options: [
    { name: "platform", type: "string", placeholder: "OS/ARCH", description: "the platform to pick from a multi-platform image (default: this machine's)" },
    registryMirror("pull"),
    INSECURE_REGISTRY,
    { name: "quiet", short: "q", type: "boolean", description: "print only the digest" },
  ],
  examples: ["strata pull busybox:1.36", "strata pull localhost:5000/team/base:1 --platform linux/arm64"],
};

/** Holds the store's shared lock throughout (a prune waits for it, and it for a running prune). */
export async function run(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const { Store, acquireBuildLock } = await import("@strata/engine/light");
  const release = await acquireBuildLock(new Store(strataHome(ctx.env)));
  try {
    return await pullCommand(args, ctx);
  } finally {
    release();
  }
}

async function pullCommand(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const o = args.options;
  const text = args.positionals[0]!;
  let platform: Platform;
  try {
    platform = o.platform ? parsePlatform(o.platform as string) : hostPlatform();
  } catch (e) {
    throw usageError((e as Error).message, spec);
  }
  const { Store, writeJsonAtomic } = await import("@strata/engine");
  const { parseReference, familiarString } = await import("@strata/registry");
  let ref: ReturnType<typeof parseReference>;
  try {
    ref = parseReference(text);
  } catch (e) {
    throw usageError((e as Error).message, spec);
  }
  const store = new Store(strataHome(ctx.env));
  const info = o.quiet ? () => {} : (m: string) => ctx.stderr(`${m}\n`);
  const list = (k: string) => (o[k] as string[] | undefined) ?? [];
  const resolver = await baseImageResolver(store, { moduleDir: ctx.cwd, overrides: [], mirrors: list("registry-mirror"), insecure: list("insecure-registry") }, ctx, info);
  const resolved = await resolver.resolveReference(ref, platform);
  const had = await resolver.complete(resolved.digest);
  await resolver.fetch(resolved, platform);
  const { imageFromStore } = await import("@strata/oci");
  const img = await imageFromStore(store.blobs, resolved.digest);
  const name = familiarString(ref);
  writeJsonAtomic(store.refPath(name), { manifest: resolved.digest, source: familiarString(resolved.ref) });
  const size = img.layers.reduce((n, l) => n + l.descriptor.size, 0);
  info(`${had ? "up to date" : "pulled"}: ${name} (${img.config.os}/${img.config.architecture}, ${img.layers.length} layers, ${formatBytes(size)})`);
  ctx.stdout(`${resolved.digest}\n`);
  return 0;
}
