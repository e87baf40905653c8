import { readFileSync } from "node:fs";
import { StrataError, type Digest } from "@strata/graph";
import type { CommandSpec, ParsedArgs } from "../argv.ts";
import { usageError } from "../argv.ts";
import type { CliContext } from "../context.ts";
import { strataHome } from "../load/strata-home.ts";
import { pushImage } from "./build-push.ts";
import { INSECURE_REGISTRY } from "./registry-flags.ts";

export const spec: CommandSpec = {
  name: "push",
  summary: "Push an image from Strata's store to a registry.",
  usage: "strata push IMAGE [TARGET-REF...] [--insecure-registry HOST]",
  description:
    "IMAGE is a name the image has in the store (a `strata build -t` tag or a `strata pull` reference)\n" +
    "or a manifest digest (sha256:…). It is pushed to each TARGET-REF (default: IMAGE itself). Layers\n" +
    "are compressed once and the result cached; blobs the registry has are not sent again; manifests\n" +
    "go last. Prints the pushed manifest digest. Credentials come from Docker's config.json.",
  positionals: { min: 1, max: 64 },
  options: [INSECURE_REGISTRY],
  examples: ["strata push app:dev registry.example.com/team/app:1.2.3", "strata push localhost:5000/app:dev"],
};

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** Holds the store's shared lock throughout (a prune waits for it, and it for a running prune). */
export async function run(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const { Store, acquireBuildLock } = await import("@strata/engine/light");
  const release = await acquireBuildLock(new Store(strataHome(ctx.env)));
  try {
    return await pushCommand(args, ctx);
  } finally {
    release();
  }
}

async function pushCommand(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const [image, ...rest] = args.positionals as [string, ...string[]];
  const { Store } = await import("@strata/engine/light");
  const { parseReference, familiarString } = await import("@strata/registry");
  const { imageFromStore } = await import("@strata/oci");
  const normalize = (t: string, what: string): string => {
    try {
      const ref = parseReference(t);
      return familiarString(ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: "latest" } : ref);
    } catch (e) {
      throw usageError(`${what} ${t}: ${(e as Error).message}`, spec);
    }
  };
  const targets = (rest.length ? rest : [image]).map((t) => normalize(t, "target"));
  const store = new Store(strataHome(ctx.env));
  let digest: Digest;
  if (DIGEST_RE.test(image)) digest = image as Digest;
  else {
    const name = normalize(image, "image");
    let rec: { manifest?: Digest } | undefined;
    try {
      rec = JSON.parse(readFileSync(store.refPath(name), "utf8")) as { manifest?: Digest };
    } catch {
      rec = undefined;
    }
    if (!rec?.manifest) {
      throw new StrataError("STRATA_IMAGE_NOT_FOUND", `no image named ${name} in the store`, {
        hint: `build it with \`strata build -t ${name}\`, or \`strata pull ${name}\``,
      });
    }
    digest = rec.manifest;
  }
  if (!(await store.blobs.has(digest))) {
    throw new StrataError("STRATA_IMAGE_NOT_FOUND", `the store has no manifest ${digest}`, { hint: "it may have been pruned: build or pull the image again" });
  }
  const img = await imageFromStore(store.blobs, digest);
  const list = (k: string) => (args.options[k] as string[] | undefined) ?? [];
  const report = await pushImage(store, img, targets, { insecure: list("insecure-registry") }, ctx);
  ctx.stdout(`${report.digest}\n`);
  return 0;
}
