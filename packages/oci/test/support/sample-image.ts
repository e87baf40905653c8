import { mkdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ImageConfigFile } from "@strata/graph";
import { assembleImage, writeLayer, type FsBlobStore, type LayerEntry, type OciImage } from "../../src/index.ts";

export const FILE_TEXT = "hello from strata\n";
export const BIG_SIZE = 6 << 20;

/** Deterministic, poorly compressible bytes (so a gzip layer spans several 4 MiB members). */
function pseudoRandom(size: number, seed = 1): Buffer {
  const b = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeUInt32LE(x >>> 0, i);
  }
  return b;
}

/** Source files for the sample image, with the given mtime (to show it does not matter). */
export function makeSourceTree(dir: string, mtime: number): void {
  mkdirSync(join(dir, "data"), { recursive: true });
  writeFileSync(join(dir, "file"), FILE_TEXT);
  writeFileSync(join(dir, "doomed"), "delete me\n");
  writeFileSync(join(dir, "data", "big.bin"), pseudoRandom(BIG_SIZE));
  for (const f of ["file", "doomed", "data/big.bin", "data", "."]) utimesSync(join(dir, f), mtime, mtime);
}

const meta = { uid: 0, gid: 0, mtime: 0 } as const;
const BUSYBOX_APPLETS = ["sh", "cat", "ls", "test", "echo", "stat", "sha256sum", "readlink"];

function fromDisk(path: string, src: string, mode = 0o644): LayerEntry {
  const st = statSync(src);
  return { ...meta, mtime: st.mtimeMs / 1000, type: "file", path, mode, size: st.size, content: { path: src } };
}

/** Layer 1: a busybox-static rootfs plus /etc/doomed. */
function baseEntries(srcDir: string): LayerEntry[] {
  const dir = (path: string, mode = 0o755): LayerEntry => ({ ...meta, type: "directory", path, mode });
  return [
    dir("bin"),
    fromDisk("bin/busybox", "/bin/busybox", 0o755),
    ...BUSYBOX_APPLETS.map((a): LayerEntry => ({ ...meta, type: "symlink", path: `bin/${a}`, linkname: "busybox", mode: 0o777 })),
    dir("etc"),
    { ...meta, type: "file", path: "etc/passwd", mode: 0o644, size: 30, content: { bytes: Buffer.from("root:x:0:0:root:/root:/bin/sh\n") } },
    fromDisk("etc/doomed", join(srcDir, "doomed")),
    dir("tmp", 0o1777),
  ];
}

/** Layer 2: files, a hard link, a symlink, a big file, and a whiteout over layer 1's /etc/doomed. */
function topEntries(srcDir: string): LayerEntry[] {
  return [
    fromDisk("file", join(srcDir, "file")),
    { ...meta, type: "directory", path: "data", mode: 0o755 },
    fromDisk("data/big.bin", join(srcDir, "data", "big.bin")),
    { ...meta, type: "hardlink", path: "data/file-hardlink", linkname: "file", mode: 0o644 },
    { ...meta, type: "symlink", path: "data/file-symlink", linkname: "/file", mode: 0o777 },
    { type: "directory", path: "etc", mode: 0o755, ...meta },
    { type: "whiteout", path: "etc/doomed" },
  ];
}

export const sampleConfig: Omit<ImageConfigFile, "rootfs"> = {
  architecture: "amd64",
  os: "linux",
  config: { Env: ["PATH=/bin"], Cmd: ["/bin/sh"], WorkingDir: "/" },
  history: [
    { created: "1970-01-01T00:00:00Z", created_by: "strata: busybox rootfs" },
    { created: "1970-01-01T00:00:00Z", created_by: "strata: ENV PATH=/bin", empty_layer: true },
    { created: "1970-01-01T00:00:00Z", created_by: "strata: COPY files" },
  ],
};

export async function buildSampleImage(srcDir: string, store: FsBlobStore, compression: "none" | "gzip" = "none"): Promise<OciImage> {
  const l1 = await writeLayer(baseEntries(srcDir), { to: { store }, compression });
  const l2 = await writeLayer(topEntries(srcDir), { to: { store }, compression });
  return assembleImage({ store, config: sampleConfig, layers: [l1, l2] });
}
