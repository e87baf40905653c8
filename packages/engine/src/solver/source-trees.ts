import { createReadStream, statSync } from "node:fs";
import type { EntryContent } from "@strata/oci";
import { contextSourceTree, DirectorySourceTree, type SourceNode, type SourceTree } from "../copy/source-tree.ts";
import { cacheKey } from "./cache-key.ts";
import type { OpResult } from "./results.ts";
import type { SolverContext } from "./solver.ts";

/** A downloaded file as the only file of a tree (ADD <url> writes it with mode 0600, like Docker). */
function downloadTree(file: string, name: string): SourceTree {
  const size = statSync(file).size;
  const node: SourceNode = { type: "file", mode: 0o600, uid: 0, gid: 0, mtime: 0, size };
  const root: SourceNode = { type: "directory", mode: 0o755, uid: 0, gid: 0, mtime: 0, size: 0 };
  return {
    lstat: (p) => (p === "" ? root : p === name ? node : undefined),
    readdir: (p) => (p === "" ? [name] : []),
    content: (): EntryContent => ({ path: file }),
    read: () => createReadStream(file),
  };
}

/**
 * The tree a copy reads from an op's result, and the part of its cache key that stands for
 * the selected content: a digest over the selected context files (so editing an unrelated
 * file does not invalidate the copy), or the input's own key for images, downloads and trees.
 */
export async function copySource(
  ctx: SolverContext,
  input: OpResult,
  select: { src: readonly string[]; parents: boolean; exclude: readonly string[] },
): Promise<{ tree: () => Promise<SourceTree>; key: string; src: readonly string[] }> {
  switch (input.kind) {
    case "context": {
      const tree = contextSourceTree(input.snapshot);
      // Nothing in the context changed since a build that made the same selection: reuse its
      // digest without looking at any file (the no-op rebuild path).
      const fp = input.snapshot.fingerprint();
      const memoKey = cacheKey("selection-memo", { root: input.snapshot.root, fingerprint: fp.digest, src: select.src, parents: select.parents, exclude: select.exclude });
      let digest = ctx.opts.noCache ? undefined : ctx.store.getCache<{ digest: string }>(memoKey)?.digest;
      if (!digest) {
        const { selectionDigest } = await import("../copy/selection-digest.ts");
        digest = await selectionDigest(tree, { src: select.src, parents: select.parents, exclude: select.exclude });
        if (!fp.racy) ctx.store.putCache(memoKey, { digest });
      }
      return { tree: async () => tree, key: cacheKey("context-selection", { name: input.name, digest }), src: select.src };
    }
    case "fs":
      // Opened only when the copy runs: a cached copy never reads (or fetches) its source's layers.
      return { tree: async () => (await ctx.view(input)).asSource(), key: input.key, src: select.src };
    case "download":
      // The download is one file: copying "." means copying that file.
      return { tree: async () => downloadTree(input.file, input.name), key: input.key, src: select.src.map((s) => (s === "." ? input.name : s)) };
    case "tree":
      return { tree: async () => new DirectorySourceTree(input.dir, { owner: { uid: 0, gid: 0 } }), key: input.key, src: select.src };
  }
}
