import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Digest } from "@strata/graph";
import { formatLockfile, lookupLock, normalizeLockfile, parseImageOverrides, parseMirrors, readLockfile, writeLockfile } from "@strata/engine";
import { registryOutputs } from "../src/commands/build-push.ts";

const d = (c: string) => `sha256:${c.repeat(64)}` as Digest;

describe("--image REF=SOURCE", () => {
  it("keys by the normalised reference and resolves paths from the working directory", () => {
    const o = parseImageOverrides(["node:22=oci-layout:./n22:v1", "docker.io/library/alpine=registry:mirror.local/alpine:3", "x/y:1=docker-daemon:y:1"], "/work");
    expect(o.get("docker.io/library/node:22")).toEqual({ transport: "oci-layout", ref: "/work/n22:v1", text: "oci-layout:./n22:v1" });
    expect(o.get("docker.io/library/alpine:latest")?.ref).toBe("mirror.local/alpine:3");
    expect(o.get("docker.io/x/y:1")).toMatchObject({ transport: "docker-daemon", ref: "y:1" });
  });
  it.each([["node"], ["node=ftp:x"], ["node=oci-layout:"], ["Node=oci-layout:x"], ["node=registry:Bad/Ref"]])("%s is a usage error", (item) => {
    expect(() => parseImageOverrides([item], "/")).toThrow(expect.objectContaining({ code: "STRATA_USAGE" }));
  });
});

describe("--registry-mirror", () => {
  it("HOST mirrors Docker Hub; ORIGIN=HOST another registry; URLs are reduced to hosts", () => {
    const m = parseMirrors(["mirror.local:5000", "https://m2.local/v2/", "ghcr.io=ghcr-mirror.local"]);
    expect([...m]).toEqual([
      ["docker.io", ["mirror.local:5000", "m2.local"]],
      ["ghcr.io", ["ghcr-mirror.local"]],
    ]);
    expect(() => parseMirrors(["docker.io"])).toThrow(expect.objectContaining({ code: "STRATA_USAGE" }));
  });
});

describe("strata.lock", () => {
  it("is written with sorted keys and read back; lookups normalise the reference and platform", () => {
    const dir = mkdtempSync(join(tmpdir(), "strata-lock-"));
    const path = join(dir, "strata.lock");
    const lock = normalizeLockfile(
      { "docker.io/library/node:22": { "linux/arm64/v8": { digest: d("b") }, "linux/amd64": { digest: d("a"), index: d("c") } }, "a.io/x:1": { "linux/amd64": { digest: d("e") } } },
      ["linux/arm64/v8", "linux/amd64"],
    );
    writeLockfile(path, lock);
    const text = readFileSync(path, "utf8");
    expect(text).toBe(formatLockfile(readLockfile(path)!));
    expect(text.indexOf("a.io/x:1")).toBeLessThan(text.indexOf("docker.io"));
    expect(text.indexOf("linux/amd64")).toBeLessThan(text.indexOf("linux/arm64/v8"));
    expect(lookupLock(lock, "node:22", { os: "linux", architecture: "aarch64" })?.digest).toBe(d("b"));
    expect(lookupLock(lock, "node:22", { os: "linux", architecture: "amd64" })).toEqual({ digest: d("a"), index: d("c") });
    expect(lookupLock(lock, "node:20", { os: "linux", architecture: "amd64" })).toBeUndefined();
  });
  it.each([
    ["not json", "{"],
    ["another version", '{"lockfileVersion": 2, "images": {}}'],
    ["a bad digest", '{"lockfileVersion": 1, "images": {"a": {"linux/amd64": {"digest": "md5:x"}}}}'],
  ])("%s is STRATA_LOCKFILE_INVALID", (_what, text) => {
    const path = join(mkdtempSync(join(tmpdir(), "strata-lock-")), "strata.lock");
    writeFileSync(path, text);
    expect(() => readLockfile(path)).toThrow(expect.objectContaining({ code: "STRATA_LOCKFILE_INVALID" }));
  });
});

describe("--output type=registry", () => {
  it("takes buildx's spellings of a push and leaves file outputs alone", () => {
    expect(registryOutputs(["type=registry,name=r.io/a:1", "type=oci,dest=x.tar", "type=image,name=r.io/b:2,push=true", "type=image,name=r.io/c:3"])).toEqual({
      names: ["r.io/a:1", "r.io/b:2"],
      rest: ["type=oci,dest=x.tar", "type=image,name=r.io/c:3"],
    });
  });
});

describe("reusing a pulled base layer's blob for a push", () => {
  it("adopts a candidate only after checking that it decompresses to the layer's diffID", async () => {
    const { Store, recordBaseLayers, adoptBaseLayerBlobs } = await import("@strata/engine");
    const { gzipSync } = await import("node:zlib");
    const { createHash } = await import("node:crypto");
    const store = new Store(mkdtempSync(join(tmpdir(), "strata-home-")));
    const raw = Buffer.from("pretend this is a tar stream\n".repeat(100));
    const gz = gzipSync(raw);
    const blob = await store.blobs.put(gz);
    const diffId = `sha256:${createHash("sha256").update(raw).digest("hex")}` as Digest;
    const layer = (id: Digest) => ({ diffId: id, descriptor: { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: blob.digest, size: blob.size } });
    // A registry that lied about the diffID: the blob is not adopted.
    recordBaseLayers(store, { layers: [layer(d("f"))] } as never, "r.io/base");
    expect(await adoptBaseLayerBlobs(store, { layers: [layer(d("f"))] } as never)).toEqual(new Map());
    recordBaseLayers(store, { layers: [layer(diffId)] } as never, "r.io/base");
    recordBaseLayers(store, { layers: [layer(diffId)] } as never, "r.io/other");
    expect(await adoptBaseLayerBlobs(store, { layers: [layer(diffId)] } as never)).toEqual(new Map([[blob.digest, ["r.io/base", "r.io/other"]]]));
  });
});
