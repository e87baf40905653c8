import type { Store } from "@strata/build";
import { StrataError } from "@strata/graph";
import type { OciImage } from "@strata/oci";
import type { CliContext } from "../context.ts";

/** `strata build --push`: pushes the built image to the registry of each tag. */
export async function pushImage(store: Store, image: OciImage, tags: readonly string[], opts: { insecure: readonly string[] }, ctx: CliContext): Promise<void> {
  if (!tags.length) throw new StrataError("STRATA_USAGE", "--push needs a name to push to", { hint: "add -t registry.example.com/team/app:tag" });
  const { withCompression } = await import("@strata/build");
  const { Registry, sourceFromStore } = await import("@strata/registry");
  const pushed = await withCompression(store, image, "gzip", "oci");
  const registry = new Registry(opts.insecure.length ? { insecure: [...opts.insecure] } : {});
  const source = await sourceFromStore(store.blobs, pushed.manifestDigest);
  const result = await registry.push(source, [...tags]);
  for (const t of tags) ctx.stderr(`  pushed ${t}@${result.digest}\n`);
}
