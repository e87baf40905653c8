import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { FsBlobStore, MediaType } from "@strata/oci";
import { Registry, sourceFromStore } from "../src/index.ts";
import { busyboxImage, startRegistry, tempStore, type TestRegistry } from "./helpers/index.ts";

// The real Docker client and daemon, and skopeo, on both sides of our client.
const DOCKER = "/usr/bin/docker";
const docker = (...args: string[]): string => execFileSync(DOCKER, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const sha = (b: Uint8Array): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;

let reg: TestRegistry;
const dockerTags: string[] = [];
beforeAll(async () => {
  reg = await startRegistry();
});
afterAll(async () => {
  for (const t of dockerTags) {
    try {
      docker("rmi", "-f", t);
    } catch {
      // already gone
    }
  }
  await reg?.stop();
});

describe("interop with docker and skopeo", () => {
  it("an image pushed by strata is pulled and run by dockerd", async () => {
    const msg = `hello from strata ${process.pid}`;
    const img = await busyboxImage(tempStore(), msg);
    const tag = `${reg.host}/interop/busybox:${process.pid}`;
    await new Registry().push(await sourceFromStore(img.store, img.manifestDigest), tag);
    dockerTags.push(tag);
    const pullOut = docker("pull", tag);
    expect(pullOut).toContain(img.manifestDigest);
    expect(docker("run", "--rm", tag).trim()).toBe(msg);
  });

  it("an image pushed by docker is pulled by strata and its blobs verify", async () => {
    // Build a docker image without a base: import the rootfs tar of our busybox layer.
    const src = await busyboxImage(tempStore(), "from docker");
    const tarGz = readFileSync((src.store as FsBlobStore).pathOf(src.layers[0]!.digest));
    const dir = mkdtempSync(join(tmpdir(), "strata-interop-"));
    writeFileSync(join(dir, "rootfs.tar"), gunzipSync(tarGz));
    const tag = `${reg.host}/interop/fromdocker:1`;
    docker("import", "--change", 'CMD ["/bin/sh","-c","cat /etc/strata-message"]', join(dir, "rootfs.tar"), tag);
    dockerTags.push(tag);
    const pushOut = docker("push", tag);
    const pushed = /digest: (sha256:[0-9a-f]{64})/.exec(pushOut)?.[1];
    expect(pushed).toBeDefined();

    const store = tempStore();
    const pulled = await new Registry().pull(tag, store);
    expect(pulled.digest).toBe(pushed);
    expect(pulled.mediaType).toBe(MediaType.DockerManifest);
    expect(pulled.config.parsed.config.Cmd).toEqual(["/bin/sh", "-c", "cat /etc/strata-message"]);
    for (const l of [pulled.config.descriptor, ...pulled.layers]) {
      expect(sha(readFileSync(store.pathOf(l.digest)))).toBe(l.digest);
    }
    // The uncompressed layer is the rootfs docker imported: its digest is the config's diff_id.
    const diffId = sha(gunzipSync(readFileSync(store.pathOf(pulled.layers[0]!.digest))));
    expect(pulled.config.parsed.rootfs.diff_ids[0]).toBe(diffId);
  });

  it("skopeo reads what strata pushed, and strata reads what skopeo pushed", async () => {
    const img = await busyboxImage(tempStore(), "skopeo");
    await new Registry().push(await sourceFromStore(img.store, img.manifestDigest), `${reg.host}/interop/skopeo:a`);
    const out = mkdtempSync(join(tmpdir(), "strata-skopeo-"));
    execFileSync("skopeo", ["copy", "--src-tls-verify=false", `docker://${reg.host}/interop/skopeo:a`, `oci:${out}:a`], { stdio: "ignore" });
    const index = JSON.parse(readFileSync(join(out, "index.json"), "utf8")) as { manifests: { digest: string }[] };
    expect(index.manifests[0]!.digest).toBe(img.manifestDigest);

    // The other way: skopeo pushes the OCI layout back under a new name.
    execFileSync("skopeo", ["copy", "--dest-tls-verify=false", `oci:${out}:a`, `docker://${reg.host}/interop/skopeo:b`], { stdio: "ignore" });
    const layoutStore = new FsBlobStore(join(out, "blobs"));
    const pulled = await new Registry().pull(`${reg.host}/interop/skopeo:b`, tempStore());
    expect(pulled.digest).toBe(img.manifestDigest);
    expect(await layoutStore.has(pulled.layers[0]!.digest)).toBe(true);
  });
});
