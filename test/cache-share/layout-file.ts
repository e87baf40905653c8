import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";

/**
 * A file's bytes as the image in an OCI layout holds it (the topmost layer that has it).
 * Reads the tar headers directly: a test helper that looks at exactly what was written.
 */
export function ociFile(layout: string, path: string): Buffer | undefined {
  const blob = (d: string) => readFileSync(join(layout, "blobs", "sha256", d.slice(7)));
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as { manifests: Array<{ digest: string }> };
  const manifest = JSON.parse(blob(index.manifests[0]!.digest).toString("utf8")) as { layers: Array<{ digest: string; mediaType: string }> };
  let found: Buffer | undefined;
  for (const l of manifest.layers) {
    let tar = blob(l.digest);
    if (l.mediaType.endsWith("gzip")) tar = gunzipSync(tar);
    for (let off = 0; off + 512 <= tar.length; ) {
      const name = tar.subarray(off, off + 100).toString("utf8").replace(/\0.*$/s, "");
      if (!name) break;
      const size = parseInt(tar.subarray(off + 124, off + 136).toString("utf8").replace(/\0.*$/s, "").trim() || "0", 8);
      if (name.replace(/^\.?\//, "") === path) found = Buffer.from(tar.subarray(off + 512, off + 512 + size));
      off += 512 + Math.ceil(size / 512) * 512;
    }
  }
  return found;
}
