import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { Readable } from "node:stream";
import tar from "tar-stream";
import type { Digest, ImageConfigFile, Platform } from "@strata/graph";
import { FsBlobStore, MediaType, type Descriptor } from "@strata/oci";

/** An image laid out in a FsBlobStore, as the build engine will hand one to `push`. */
export interface StoredImage {
  readonly store: FsBlobStore;
  readonly manifest: Uint8Array;
  readonly manifestDigest: Digest;
  readonly config: Uint8Array;
  readonly configDigest: Digest;
  readonly layers: readonly Descriptor[];
}

export function sha256(b: Uint8Array): Digest {
  return `sha256:${createHash("sha256").update(b).digest("hex")}` as Digest;
}

export function tempStore(prefix = "strata-store-"): FsBlobStore {
  return new FsBlobStore(mkdtempSync(join(tmpdir(), prefix)));
}

async function tarOf(entries: { name: string; type?: "file" | "directory" | "symlink"; data?: Buffer; linkname?: string; mode?: number }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on("data", (c: unknown) => {
      chunks.push(c as Buffer);
    });
    pack.on("end", () => resolve());
    pack.on("error", reject);
  });
  for (const e of entries) {
    const type = e.type ?? "file";
    const header = { name: e.name, type, mode: e.mode ?? (type === "directory" ? 0o755 : 0o644), mtime: new Date(0), uid: 0, gid: 0, ...(e.linkname ? { linkname: e.linkname } : {}) };
    const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const written = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    if (type === "file") pack.entry(header, e.data ?? Buffer.alloc(0), cb);
    else pack.entry(header, cb);
    await written;
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function storeBytes(store: FsBlobStore, bytes: Uint8Array, mediaType: string, extra: Partial<Descriptor> = {}): Promise<Descriptor> {
  const { digest, size } = await store.put(bytes);
  return { mediaType, digest, size, ...extra };
}

async function finish(store: FsBlobStore, layers: Descriptor[], diffIds: Digest[], platform: Platform, cmd: string[]): Promise<StoredImage> {
  const cfg: ImageConfigFile = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    created: "1970-01-01T00:00:00Z",
    config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: cmd },
    rootfs: { type: "layers", diff_ids: diffIds },
    history: layers.map(() => ({ created: "1970-01-01T00:00:00Z", created_by: "strata test fixture" })),
  };
  const config = Buffer.from(JSON.stringify(cfg));
  const configDesc = await storeBytes(store, config, MediaType.OciConfig);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDesc, layers }));
  const m = await storeBytes(store, manifest, MediaType.OciManifest);
  return { store, manifest, manifestDigest: m.digest, config, configDigest: configDesc.digest, layers };
}

/**
 * A runnable image: one gzip layer with busybox-static as /bin/busybox and /bin/sh, and a
 * config whose Cmd echoes `message`. Works in dockerd without any base image.
 */
export async function busyboxImage(store: FsBlobStore = tempStore(), message = "hello from strata", platform: Platform = { os: "linux", architecture: "amd64" }): Promise<StoredImage> {
  const busybox = readFileSync("/bin/busybox");
  const layerTar = await tarOf([
    { name: "bin", type: "directory" },
    { name: "bin/busybox", data: busybox, mode: 0o755 },
    { name: "bin/sh", type: "symlink", linkname: "busybox" },
    { name: "bin/echo", type: "symlink", linkname: "busybox" },
    { name: "etc", type: "directory" },
    { name: "etc/strata-message", data: Buffer.from(`${message}\n`) },
  ]);
  const gz = gzipSync(layerTar, { level: 1 });
  const layer = await storeBytes(store, gz, MediaType.OciLayerGzip);
  return finish(store, [layer], [sha256(layerTar)], platform, ["/bin/sh", "-c", `cat /etc/strata-message`]);
}

/**
 * An image of `count` layers of `size` random bytes each (not valid tars: registries and
 * copy tools never look inside). For push/pull tests and the bench.
 */
export async function randomImage(store: FsBlobStore, count: number, size: number, platform: Platform = { os: "linux", architecture: "amd64" }): Promise<StoredImage> {
  const layers: Descriptor[] = [];
  const diffIds: Digest[] = [];
  for (let i = 0; i < count; i++) {
    // Streamed so a large layer never sits in memory twice.
    const chunk = 4 << 20;
    const parts = Math.ceil(size / chunk);
    const src = Readable.from((function* () {
      for (let p = 0; p < parts; p++) yield randomBytes(Math.min(chunk, size - p * chunk));
    })());
    const { digest } = await store.put(src);
    layers.push({ mediaType: MediaType.OciLayerGzip, digest, size });
    diffIds.push(digest);
  }
  return finish(store, layers, diffIds, platform, ["true"]);
}

/** An OCI index over several stored images (their platforms from each config). */
export async function indexOf(store: FsBlobStore, images: readonly StoredImage[]): Promise<{ index: Uint8Array; digest: Digest }> {
  const manifests = images.map((img) => {
    const cfg = JSON.parse(Buffer.from(img.config).toString("utf8")) as ImageConfigFile;
    return {
      mediaType: MediaType.OciManifest,
      digest: img.manifestDigest,
      size: img.manifest.byteLength,
      platform: { os: cfg.os, architecture: cfg.architecture, ...(cfg.variant ? { variant: cfg.variant } : {}) },
    };
  });
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }));
  const { digest } = await store.put(index);
  return { index, digest };
}
