import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, lstatSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  FsBlobStore,
  assembleImage,
  assembleIndex,
  copyImageToStore,
  MediaType,
  checkImage,
  listDockerArchive,
  listOciLayout,
  readDockerArchive,
  readOciLayout,
  validateImage,
  writeDockerArchive,
  writeOciLayout,
  type OciImage,
} from "../src/index.ts";
import { hasCommand, run, sha256File, tempDir } from "./helpers.ts";
import { missing } from "../../../test/helpers/requires.ts";
import { BIG_SIZE, buildSampleImage, FILE_TEXT, makeSourceTree, sampleConfig } from "./support/sample-image.ts";

const DOCKER = "/usr/bin/docker";
const dockerUp = hasCommand(DOCKER, ["info"]);
const dir = tempDir();
const src = join(dir, "src");
const tag = `strata-oci-test/sample:${randomBytes(4).toString("hex")}`;
const loaded: string[] = [];

let image: OciImage;
let gzImage: OciImage;

beforeAll(async () => {
  makeSourceTree(src, 1_234_567_890);
  image = await buildSampleImage(src, new FsBlobStore(join(dir, "store")));
  gzImage = await buildSampleImage(src, new FsBlobStore(join(dir, "store-gz")), "gzip");
});

afterAll(() => {
  if (loaded.length > 0) spawnSync(DOCKER, ["rmi", "-f", ...loaded], { stdio: "ignore" });
});

describe("assembled images", () => {
  test("are valid: digests, sizes, diffIDs, media types, history", async () => {
    await validateImage(image);
    await validateImage(gzImage);
    expect(image.layers.map((l) => l.descriptor.mediaType)).toEqual([MediaType.OciLayer, MediaType.OciLayer]);
    expect(gzImage.layers.map((l) => l.descriptor.mediaType)).toEqual([MediaType.OciLayerGzip, MediaType.OciLayerGzip]);
    expect(gzImage.config.rootfs.diff_ids).toEqual(image.config.rootfs.diff_ids);
    expect(image.manifest.config.mediaType).toBe(MediaType.OciConfig);
  });

  test("checkImage reports each broken invariant with its code", async () => {
    const layer0 = image.layers[0] as OciImage["layers"][number];
    const layer1 = image.layers[1] as OciImage["layers"][number];
    const broken: OciImage = {
      ...image,
      manifestDigest: image.config.rootfs.diff_ids[0] as OciImage["manifestDigest"],
      configBytes: Buffer.concat([image.configBytes, Buffer.from(" ")]),
      config: { ...image.config, history: [{ created_by: "only one" }] },
      layers: [{ ...layer0, open: layer1.open }, layer1],
    };
    const codes = (await checkImage(broken)).map((p) => p.code).sort();
    expect(codes).toEqual(
      [
        "STRATA_IMAGE_CONFIG_DIGEST",
        "STRATA_IMAGE_CONFIG_SIZE",
        "STRATA_IMAGE_DIFF_ID",
        "STRATA_IMAGE_HISTORY_COUNT",
        "STRATA_IMAGE_LAYER_DIGEST",
        "STRATA_IMAGE_LAYER_SIZE",
        "STRATA_IMAGE_MANIFEST_DIGEST",
      ].sort(),
    );
    await expect(validateImage(broken)).rejects.toMatchObject({ code: "STRATA_IMAGE_INVALID" });
    const mixed: OciImage = { ...image, manifestMediaType: MediaType.DockerManifest };
    expect((await checkImage(mixed, { layers: false })).map((p) => p.code)).toContain("STRATA_IMAGE_MEDIA_TYPE");
  });

  test("are reproducible across processes and source mtimes: same layer bytes, same manifest digest", async () => {
    const { build } = await import("esbuild");
    const script = join(dir, "build-image.mjs");
    await build({ entryPoints: [join(import.meta.dirname, "support/build-image-main.ts")], bundle: true, platform: "node", format: "esm", outfile: script, logLevel: "silent" });
    const out = [1, 2].map((i) => {
      const s = join(dir, `repro-src-${i}`);
      makeSourceTree(s, i * 1_000_000_000); // other mtimes on disk
      return JSON.parse(run(process.execPath, [script, s, join(dir, `repro-store-${i}`), "gzip"])) as { manifest: string; layers: string[] };
    });
    expect(out[1]).toEqual(out[0]);
    expect(out[0]?.manifest).toBe(gzImage.manifestDigest);
    for (const l of out[0]?.layers ?? []) {
      const hex = l.slice(7);
      expect(readFileSync(join(dir, "repro-store-1/sha256", hex)).equals(readFileSync(join(dir, "repro-store-2/sha256", hex)))).toBe(true);
    }
  });
});

describe.skipIf(missing({ skopeo: hasCommand("skopeo"), umoci: hasCommand("umoci", ["--version"]) }))("OCI image layout", () => {
  test("skopeo inspects it and umoci unpacks it: files, hard link, symlink, whiteout applied", async () => {
    const layout = join(dir, "layout");
    await writeOciLayout([{ image, ref: "v1" }, { image: gzImage, ref: "v1-gzip" }], { dir: layout });
    const info = JSON.parse(run("skopeo", ["inspect", `oci:${layout}:v1`])) as { Digest: string; Layers: string[]; Os: string };
    expect(info.Digest).toBe(image.manifestDigest);
    expect(info.Layers).toEqual(image.layers.map((l) => l.descriptor.digest));
    const raw = run("skopeo", ["inspect", "--raw", `oci:${layout}:v1-gzip`]);
    expect(Buffer.from(raw).equals(Buffer.from(gzImage.manifestBytes))).toBe(true);
    expect(run("umoci", ["stat", "--image", `${layout}:v1`])).toContain("strata: COPY files");

    const bundle = join(dir, "bundle");
    run("umoci", ["unpack", "--image", `${layout}:v1-gzip`, bundle]);
    const rootfs = join(bundle, "rootfs");
    expect(readFileSync(join(rootfs, "file"), "utf8")).toBe(FILE_TEXT);
    expect(lstatSync(join(rootfs, "data/file-hardlink")).ino).toBe(lstatSync(join(rootfs, "file")).ino);
    expect(lstatSync(join(rootfs, "data/big.bin")).size).toBe(BIG_SIZE);
    expect(readdirSync(join(rootfs, "etc"))).toEqual(["passwd"]); // etc/doomed whited out
    expect(run("readlink", [join(rootfs, "data/file-symlink")]).trim()).toBe("/file");
  });

  test("reads back what it wrote, by ref, from a directory and from an OCI archive", async () => {
    const layout = join(dir, "layout");
    const back = await readOciLayout(layout, { ref: "v1-gzip" });
    expect(back.manifestDigest).toBe(gzImage.manifestDigest);
    expect(Buffer.from(back.configBytes).equals(Buffer.from(gzImage.configBytes))).toBe(true);
    await validateImage(back);
    expect((await listOciLayout(layout)).map((e) => e.ref)).toEqual(["v1", "v1-gzip"]);
    await expect(readOciLayout(layout)).rejects.toMatchObject({ code: "STRATA_LAYOUT_AMBIGUOUS" });
    await expect(readOciLayout(layout, { ref: "nope" })).rejects.toMatchObject({ code: "STRATA_LAYOUT_REF_NOT_FOUND" });

    const archive = join(dir, "image.oci.tar");
    await writeOciLayout([{ image: back, ref: "latest" }], { file: archive });
    const again = join(dir, "image2.oci.tar");
    await writeOciLayout([{ image: await readOciLayout(archive), ref: "latest" }], { file: again });
    expect(sha256File(again)).toBe(sha256File(archive)); // archives are deterministic too
    const info = JSON.parse(run("skopeo", ["inspect", `oci-archive:${archive}:latest`])) as { Digest: string };
    expect(info.Digest).toBe(gzImage.manifestDigest);
    const fromTar = await readOciLayout(archive);
    await validateImage(fromTar);
    expect(fromTar.manifestDigest).toBe(gzImage.manifestDigest);
  });

  test("replacing a ref in an existing layout keeps the other entries", async () => {
    const layout = join(dir, "layout");
    await writeOciLayout([{ image: gzImage, ref: "v1" }], { dir: layout });
    const refs = await listOciLayout(layout);
    expect(refs.map((e) => [e.ref, e.descriptor.digest])).toEqual([
      ["v1-gzip", gzImage.manifestDigest],
      ["v1", gzImage.manifestDigest],
    ]);
    expect(readdirSync(join(layout, "blobs"))).toEqual(["sha256"]); // no temp directory left behind
    await writeOciLayout([{ image, ref: "v1" }], { dir: layout });
  });

  test("multi-platform: an index is written, inspected by skopeo, and resolved by platform when read", async () => {
    const store = new FsBlobStore(join(dir, "store-gz"));
    const arm = await assembleImage({
      store,
      config: { ...sampleConfig, architecture: "arm64", variant: "v8" },
      layers: gzImage.layers.map((l) => ({ descriptor: l.descriptor, diffId: l.diffId })),
    });
    const index = await assembleIndex(store, [gzImage, arm]);
    await validateImage(index);
    const layout = join(dir, "layout-multi");
    await writeOciLayout([{ image: index, ref: "multi" }], { dir: layout });
    const raw = JSON.parse(run("skopeo", ["inspect", "--raw", `oci:${layout}:multi`])) as { manifests: { platform: { architecture: string } }[] };
    expect(raw.manifests.map((m) => m.platform.architecture)).toEqual(["amd64", "arm64"]);
    const inspected = JSON.parse(run("skopeo", ["inspect", "--override-arch", "arm64", `oci:${layout}:multi`])) as { Digest: string; Architecture: string };
    expect(inspected).toMatchObject({ Digest: index.indexDigest, Architecture: "arm64" });
    expect((await readOciLayout(layout, { platform: { os: "linux", architecture: "arm64" } })).manifestDigest).toBe(arm.manifestDigest);
    expect((await readOciLayout(layout, { platform: { os: "linux", architecture: "amd64" } })).manifestDigest).toBe(gzImage.manifestDigest);
    await expect(readOciLayout(layout, { platform: { os: "linux", architecture: "s390x" } })).rejects.toMatchObject({ code: "STRATA_IMAGE_NO_PLATFORM" });
  });

  test("reads layouts other tools wrote (skopeo from a docker-archive)", async () => {
    const archive = join(dir, "for-skopeo.tar");
    await writeDockerArchive([{ image, tags: ["strata/for-skopeo:1"] }], { file: archive });
    const layout = join(dir, "layout-skopeo");
    run("skopeo", ["copy", "-q", `docker-archive:${archive}`, `oci:${layout}:from-skopeo`]);
    const img = await readOciLayout(layout, { ref: "from-skopeo" });
    await validateImage(img);
    expect(img.config.rootfs.diff_ids).toEqual(image.config.rootfs.diff_ids);
    expect(img.layers.every((l) => l.path?.startsWith(layout))).toBe(true);
  });

  test("skopeo (Go's gzip) copies it, multi-member gzip layers included, to a docker-archive that reads back as the same image", async () => {
    const layout = join(dir, "layout");
    const out = join(dir, "skopeo-docker.tar");
    run("skopeo", ["copy", "-q", `oci:${layout}:v1-gzip`, `docker-archive:${out}:strata/skopeo:1`]);
    expect((await listDockerArchive(out)).map((r) => r.tags)).toEqual([["docker.io/strata/skopeo:1"]]);
    const img = await readDockerArchive(out);
    await validateImage(img);
    expect(img.config.rootfs.diff_ids).toEqual(image.config.rootfs.diff_ids);
  });
});

const CONTAINERD = "/var/run/docker/containerd/containerd.sock";
describe.skipIf(missing({ ctr: hasCommand("ctr", ["--version"]), [`dockerd's containerd at ${CONTAINERD}`]: existsSync(CONTAINERD) }))("containerd", () => {
  test("imports our OCI archive and unpacks its multi-member gzip layers (checking diffIDs), in a private namespace", async () => {
    const archive = join(dir, "for-containerd.oci.tar");
    await writeOciLayout([{ image: gzImage, ref: "gz" }], { file: archive });
    const ns = `strata-oci-test-${randomBytes(4).toString("hex")}`;
    const ctr = (...args: string[]): string => run("ctr", ["--address", CONTAINERD, "-n", ns, ...args]);
    try {
      expect(ctr("images", "import", "--base-name", "strata/test", archive)).toContain("unpacking strata/test:gz");
      expect(ctr("images", "ls", "-q").trim()).toBe("strata/test:gz");
      expect(ctr("snapshots", "ls")).toContain(image.config.rootfs.diff_ids[0]?.slice(7) ?? "none");
    } finally {
      spawnSync("sh", ["-c", `ctr --address ${CONTAINERD} -n ${ns} images rm --sync $(ctr --address ${CONTAINERD} -n ${ns} images ls -q)`], { stdio: "ignore" });
      spawnSync("ctr", ["--address", CONTAINERD, "namespaces", "rm", ns], { stdio: "ignore" });
    }
  });
});

describe.skipIf(missing({ dockerd: dockerUp }))("docker-archive and docker load", () => {
  test("docker loads it and runs it: the file is there, the whited-out file is gone, hard link shared", async () => {
    const archive = join(dir, "docker.tar");
    await writeDockerArchive([{ image: gzImage, tags: [tag] }], { file: archive });
    const back = await readDockerArchive(archive, { tag });
    await validateImage(back);
    expect(back.layers.map((l) => l.descriptor.mediaType)).toEqual([MediaType.OciLayer, MediaType.OciLayer]);
    expect(back.layers.map((l) => l.descriptor.digest)).toEqual(image.config.rootfs.diff_ids);
    expect(Buffer.from(back.configBytes).equals(Buffer.from(image.configBytes))).toBe(true);

    expect(run(DOCKER, ["load", "-i", archive])).toContain(tag);
    loaded.push(tag);
    expect(run(DOCKER, ["run", "--rm", tag, "cat", "/file"])).toBe(FILE_TEXT);
    const script = "test -e /etc/doomed && echo present || echo gone; stat -c %i /file /data/file-hardlink; sha256sum /data/big.bin";
    const [doomed, ino1, ino2, big] = run(DOCKER, ["run", "--rm", tag, "sh", "-c", script]).trim().split("\n");
    expect(doomed).toBe("gone");
    expect(ino1).toBe(ino2);
    expect(big?.slice(0, 64)).toBe(sha256File(join(src, "data/big.bin")).slice(7));
  });

  test("docker save gives back the same layers (diffIDs), readable, valid, and copyable into a store", async () => {
    const saved = join(dir, "saved.tar");
    run(DOCKER, ["save", "-o", saved, tag]);
    const img = await readDockerArchive(saved);
    await validateImage(img);
    expect(img.config.rootfs.diff_ids).toEqual(image.config.rootfs.diff_ids);
    const store = new FsBlobStore(join(dir, "store-from-docker"));
    const stored = await copyImageToStore(img, store);
    expect(stored.manifestDigest).toBe(img.manifestDigest);
    expect(stored.layers.map((l) => l.path)).toEqual(img.layers.map((l) => store.pathOf(l.descriptor.digest)));
    await validateImage(stored);
  });

  test("copyImageToStore refuses a docker-archive whose config lies about a layer", async () => {
    const saved = join(dir, "saved.tar");
    const img = await readDockerArchive(saved);
    const lying = { ...img, layers: [{ ...(img.layers[0] as OciImage["layers"][number]), open: (img.layers[1] as OciImage["layers"][number]).open }, ...img.layers.slice(1)] };
    await expect(copyImageToStore(lying, new FsBlobStore(join(dir, "store-lies")))).rejects.toMatchObject({ code: expect.stringMatching(/STRATA_(DIGEST|SIZE)_MISMATCH/) });
  });

  test("docker loads multi-member gzip layers kept compressed in the archive", async () => {
    const archive = join(dir, "docker-gz.tar");
    const gzTag = `${tag}-gz`;
    await writeDockerArchive([{ image: gzImage, tags: [gzTag] }], { file: archive }, { compressedLayers: "keep" });
    const back = await readDockerArchive(archive);
    await validateImage(back);
    expect(back.layers.map((l) => l.descriptor)).toEqual(gzImage.layers.map((l) => l.descriptor));
    expect(gzImage.layers[1]?.descriptor.size).toBeGreaterThan(4 << 20); // several gzip members
    run(DOCKER, ["load", "-i", archive]);
    loaded.push(gzTag);
    expect(run(DOCKER, ["run", "--rm", gzTag, "sha256sum", "/data/big.bin"]).slice(0, 64)).toBe(sha256File(join(src, "data/big.bin")).slice(7));
  });
});
