import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { MediaType } from "@strata/oci";
import { Registry, sourceFromStore, type BlobProgress } from "../src/index.ts";
import { busyboxImage, indexOf, randomImage, startFaultProxy, startRegistry, tempStore, type FaultProxy, type TestRegistry } from "./helpers/index.ts";

let reg: TestRegistry;
let proxy: FaultProxy;
beforeAll(async () => {
  reg = await startRegistry();
  proxy = await startFaultProxy(reg.url);
});
afterAll(async () => {
  await proxy?.close();
  await reg?.stop();
});

function fileDigest(path: string): string {
  return `sha256:${createHash("sha256").update(readFileSync(path)).digest("hex")}`;
}

describe("push and pull against an open docker-registry", () => {
  it("pushes an image from a FsBlobStore and pulls it back byte for byte", async () => {
    const img = await busyboxImage();
    const client = new Registry();
    const events: BlobProgress[] = [];
    const pushed = await client.push(await sourceFromStore(img.store, img.manifestDigest), `${reg.host}/strata/busybox:1`, { onProgress: (p) => events.push(p) });
    expect(pushed.digest).toBe(img.manifestDigest);
    expect(pushed.blobs.map((b) => b.outcome).sort()).toEqual(["uploaded", "uploaded"]);
    expect(events.filter((e) => e.status === "done").map((e) => e.digest).sort()).toEqual([img.configDigest, img.layers[0]!.digest].sort());

    // The registry itself serves the manifest under the tag with our exact bytes.
    const res = await fetch(`${reg.url}/v2/strata/busybox/manifests/1`, { headers: { accept: MediaType.OciManifest } });
    expect(res.headers.get("docker-content-digest")).toBe(img.manifestDigest);
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(img.manifest))).toBe(true);

    const store = tempStore();
    const pulled = await client.pull(`${reg.host}/strata/busybox:1`, store);
    expect(pulled.digest).toBe(img.manifestDigest);
    expect(Buffer.from(pulled.manifest.raw).equals(Buffer.from(img.manifest))).toBe(true);
    expect(Buffer.from(pulled.config.raw).equals(Buffer.from(img.config))).toBe(true);
    expect(pulled.config.parsed.config.Cmd).toEqual(["/bin/sh", "-c", "cat /etc/strata-message"]);
    expect(pulled.platform).toEqual({ os: "linux", architecture: "amd64" });
    for (const l of pulled.layers) expect(fileDigest(store.pathOf(l.digest))).toBe(l.digest);
    expect(await store.has(img.manifestDigest)).toBe(true);
  });

  it("skips blobs the registry already has (HEAD) and blobs the store already has", async () => {
    const img = await busyboxImage(tempStore(), "second");
    const client = new Registry();
    await client.push(await sourceFromStore(img.store, img.manifestDigest), `${reg.host}/strata/skip:a`);
    const again = await client.push(await sourceFromStore(img.store, img.manifestDigest), [`${reg.host}/strata/skip:b`, `${reg.host}/strata/skip:c`]);
    expect(again.blobs.map((b) => b.outcome)).toEqual(["exists", "exists"]);
    expect(again.refs.map((r) => r.tag)).toEqual(["b", "c"]);
    for (const tag of ["a", "b", "c"]) {
      const r = await fetch(`${reg.url}/v2/strata/skip/manifests/${tag}`, { method: "HEAD", headers: { accept: MediaType.OciManifest } });
      expect(r.headers.get("docker-content-digest")).toBe(img.manifestDigest);
    }
    const store = tempStore();
    const first: BlobProgress[] = [];
    await client.pull(`${reg.host}/strata/skip:c`, store, { onProgress: (p) => first.push(p) });
    expect(first.some((e) => e.status === "downloading")).toBe(true);
    const second: BlobProgress[] = [];
    await client.pull(`${reg.host}/strata/skip:c`, store, { onProgress: (p) => second.push(p) });
    expect(second.map((e) => e.status)).toEqual(["exists", "exists"]);
  });

  it("mounts a blob from another repository instead of uploading it", async () => {
    const img = await busyboxImage(tempStore(), "mounted");
    const client = new Registry();
    await client.push(await sourceFromStore(img.store, img.manifestDigest), `${reg.host}/base/img:1`);
    const layer = img.layers[0]!.digest;
    const res = await client.push(await sourceFromStore(img.store, img.manifestDigest), `${reg.host}/app/img:1`, {
      mountFrom: (d) => (d.digest === layer ? "base/img" : undefined),
    });
    const byDigest = Object.fromEntries(res.blobs.map((b) => [b.digest, b.outcome]));
    expect(byDigest[layer]).toBe("mounted");
    expect(byDigest[img.configDigest]).toBe("uploaded");
    const head = await fetch(`${reg.url}/v2/app/img/blobs/${layer}`, { method: "HEAD" });
    expect(head.status).toBe(200);
  });

  it("pushing to several repositories mounts the blobs from the first", async () => {
    const img = await busyboxImage(tempStore(), "fan-out");
    const res = await new Registry().push(await sourceFromStore(img.store, img.manifestDigest), [`${reg.host}/fan/one:1`, `${reg.host}/fan/two:1`, `${reg.host}/fan/two:2`]);
    expect(res.blobs.map((b) => b.outcome)).toEqual(["uploaded", "uploaded", "mounted", "mounted"]);
    expect(res.refs.map((r) => `${r.path}:${r.tag}`)).toEqual(["fan/one:1", "fan/two:1", "fan/two:2"]);
    const pulled = await new Registry().pull(`${reg.host}/fan/two:2`, tempStore());
    expect(pulled.digest).toBe(img.manifestDigest);
  });

  it("uploads large blobs in PATCH chunks, following Location each time", async () => {
    const img = await randomImage(tempStore(), 1, 5 * 1024 * 1024 + 123);
    const client = new Registry({ insecure: [] });
    // Through the logging proxy, so the requests themselves can be checked.
    proxy.rules = [];
    const start = proxy.log.length;
    const res = await client.push(await sourceFromStore(img.store, img.manifestDigest), `${proxy.host}/strata/chunked:1`, { monolithicMax: 1024 * 1024, chunkSize: 2 * 1024 * 1024 });
    expect(res.digest).toBe(img.manifestDigest);
    const patches = proxy.log.slice(start).filter((e) => e.method === "PATCH");
    expect(patches).toHaveLength(3); // 2 MiB + 2 MiB + 1 MiB+123 for the layer; the config is small
    const store = tempStore();
    const pulled = await client.pull(`${reg.host}/strata/chunked:1`, store);
    expect(fileDigest(store.pathOf(pulled.layers[0]!.digest))).toBe(img.layers[0]!.digest);
  });

  it("pushes an index (children first) and pulls the requested platform", async () => {
    const store = tempStore();
    const amd = await busyboxImage(store, "amd64", { os: "linux", architecture: "amd64" });
    const arm = await busyboxImage(store, "arm64", { os: "linux", architecture: "arm64", variant: "v8" });
    const armv7 = await busyboxImage(store, "armv7", { os: "linux", architecture: "arm", variant: "v7" });
    const { digest } = await indexOf(store, [amd, arm, armv7]);
    const client = new Registry();
    const pushed = await client.push(await sourceFromStore(store, digest), `${reg.host}/multi/app:latest`);
    expect(pushed.digest).toBe(digest);
    expect(pushed.mediaType).toBe(MediaType.OciIndex);

    const a = await client.pull(`${reg.host}/multi/app`, tempStore(), { platform: { os: "linux", architecture: "arm64" } });
    expect(a.digest).toBe(arm.manifestDigest);
    expect(a.indexDigest).toBe(digest);
    expect(a.platform).toEqual({ os: "linux", architecture: "arm64", variant: "v8" });
    const b = await client.pull(`${reg.host}/multi/app`, tempStore(), { platform: { os: "linux", architecture: "x86_64" } });
    expect(b.digest).toBe(amd.manifestDigest);
    const c = await client.pull(`${reg.host}/multi/app`, tempStore(), { platform: { os: "linux", architecture: "arm", variant: "v8" } });
    expect(c.digest).toBe(armv7.manifestDigest); // arm/v8 runs v7
    await expect(client.pull(`${reg.host}/multi/app`, tempStore(), { platform: { os: "linux", architecture: "s390x" } })).rejects.toMatchObject({
      code: "STRATA_REGISTRY_PLATFORM_NOT_FOUND",
      hint: expect.stringContaining("linux/arm64/v8"),
    });

    const r = await client.resolve(`${reg.host}/multi/app:latest`, { platform: { os: "linux", architecture: "arm64" } });
    expect(r).toMatchObject({ digest: arm.manifestDigest, indexDigest: digest });
    const single = await client.resolve(`${reg.host}/strata/busybox:1`);
    expect(single.indexDigest).toBeUndefined();
    expect(single.mediaType).toBe(MediaType.OciManifest);
  });

  it("reports a missing tag as STRATA_REGISTRY_NOT_FOUND and verifies pulls by digest", async () => {
    const client = new Registry();
    await expect(client.pull(`${reg.host}/strata/busybox:nope`, tempStore())).rejects.toMatchObject({ code: "STRATA_REGISTRY_NOT_FOUND", message: expect.stringContaining("MANIFEST_UNKNOWN") });
    const r = await client.resolve(`${reg.host}/strata/busybox:1`);
    const byDigest = await client.pull(`${reg.host}/strata/busybox@${r.digest}`, tempStore());
    expect(byDigest.digest).toBe(r.digest);
  });
});
