import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { Registry, sourceFromStore, type BlobProgress } from "../src/index.ts";
import { busyboxImage, randomImage, startFaultProxy, startRegistry, tempStore, type FaultProxy, type StoredImage, type TestRegistry } from "./helpers/index.ts";

let reg: TestRegistry;
let proxy: FaultProxy;
let img: StoredImage;
const LAYER_SIZE = 3 * 1024 * 1024;
const fast = { retries: 4, baseDelayMs: 5, maxDelayMs: 20 };

beforeAll(async () => {
  reg = await startRegistry();
  proxy = await startFaultProxy(reg.url);
  img = await randomImage(tempStore(), 2, LAYER_SIZE);
  await new Registry().push(await sourceFromStore(img.store, img.manifestDigest), `${reg.host}/faults/img:1`);
});
afterAll(async () => {
  await proxy?.close();
  await reg?.stop();
});
beforeEach(() => {
  proxy.rules = [];
  proxy.log.length = 0;
});

const ref = (): string => `${proxy.host}/faults/img:1`;
const layer = (): string => img.layers[0]!.digest;

function tmpLeftovers(root: string): string[] {
  const dir = join(root, ".tmp");
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe("pull through a misbehaving connection", () => {
  it("resumes a dropped blob download with Range and verifies the whole blob", async () => {
    proxy.rules = [{ method: "GET", path: `/blobs/${layer()}`, fault: { kind: "drop-after", bytes: 1_000_000 }, times: 1 }];
    const store = tempStore();
    const events: BlobProgress[] = [];
    const pulled = await new Registry({ retry: fast }).pull(ref(), store, { onProgress: (e) => events.push(e) });
    expect(pulled.digest).toBe(img.manifestDigest);
    const gets = proxy.log.filter((l) => l.path.endsWith(`/blobs/${layer()}`));
    expect(gets).toHaveLength(2);
    expect(gets[0]).toMatchObject({ status: 200, fault: "drop-after" });
    expect(gets[1]!.range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(gets[1]!.status).toBe(206);
    expect(await store.has(layer() as never)).toBe(true);
    expect(events.some((e) => e.status === "retrying" && e.digest === layer())).toBe(true);
  });

  it("resumes when the server ignores Range (skips the bytes it already has)", async () => {
    proxy.rules = [
      { method: "GET", path: `/blobs/${layer()}`, fault: { kind: "drop-after", bytes: 700_000 }, times: 1 },
      { method: "GET", path: `/blobs/${layer()}`, fault: { kind: "ignore-range" }, times: 1 },
    ];
    const store = tempStore();
    await new Registry({ retry: fast }).pull(ref(), store);
    const gets = proxy.log.filter((l) => l.path.endsWith(`/blobs/${layer()}`));
    expect(gets.map((g) => g.status)).toEqual([200, 200]);
    expect(await store.size(layer() as never)).toBe(LAYER_SIZE);
  });

  // The stalled connection never ends: without the timeout the pull would hang past the test's limit.
  it("times out a stalled download and resumes it", async () => {
    proxy.rules = [{ method: "GET", path: `/blobs/${layer()}`, fault: { kind: "stall-after", bytes: 500_000 }, times: 1 }];
    const store = tempStore();
    const events: BlobProgress[] = [];
    const pulled = await new Registry({ retry: fast, timeoutMs: 400 }).pull(ref(), store, { onProgress: (e) => events.push(e) });
    expect(pulled.digest).toBe(img.manifestDigest);
    const gets = proxy.log.filter((l) => l.path.endsWith(`/blobs/${layer()}`));
    expect(gets).toHaveLength(2);
    expect(gets[0]).toMatchObject({ fault: "stall-after" });
    expect(gets[1]!.range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(events.some((e) => e.status === "retrying" && e.digest === layer())).toBe(true);
    expect(await store.size(layer() as never)).toBe(LAYER_SIZE);
  });

  it("retries 500s on the manifest and on blobs", async () => {
    proxy.rules = [
      { method: "GET", path: "/manifests/1", fault: { kind: "status", status: 500 }, times: 2 },
      { method: "GET", path: `/blobs/${layer()}`, fault: { kind: "status", status: 503 }, times: 1 },
    ];
    const pulled = await new Registry({ retry: fast }).pull(ref(), tempStore());
    expect(pulled.digest).toBe(img.manifestDigest);
    expect(proxy.log.filter((l) => l.path.includes("/manifests/")).map((l) => l.status)).toEqual([500, 500, 200]);
  });

  it("gives up on a blob that keeps failing with a clear error, storing nothing", async () => {
    proxy.rules = [{ method: "GET", path: `/blobs/${layer()}`, fault: { kind: "status", status: 502 } }];
    const store = tempStore();
    await expect(new Registry({ retry: fast }).pull(ref(), store)).rejects.toMatchObject({ code: "STRATA_REGISTRY_UNREACHABLE" });
    expect(proxy.log.filter((l) => l.path.endsWith(`/blobs/${layer()}`))).toHaveLength(fast.retries + 1);
    expect(await store.has(layer() as never)).toBe(false);
    expect(await store.has(img.manifestDigest)).toBe(false);
    expect(tmpLeftovers(store.root)).toEqual([]);
  });

  it("rejects a blob with one corrupted byte: STRATA_REGISTRY_DIGEST_MISMATCH, nothing stored", async () => {
    proxy.rules = [{ method: "GET", path: `/blobs/${layer()}`, fault: { kind: "corrupt", offset: 12_345 } }];
    const store = tempStore();
    const err = await new Registry({ retry: fast }).pull(ref(), store).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "STRATA_REGISTRY_DIGEST_MISMATCH", message: expect.stringContaining(layer()) });
    // One fresh attempt after the first mismatch, then the error.
    expect(proxy.log.filter((l) => l.path.endsWith(`/blobs/${layer()}`))).toHaveLength(2);
    expect(await store.has(layer() as never)).toBe(false);
    expect(await store.has(img.manifestDigest)).toBe(false);
    expect(tmpLeftovers(store.root)).toEqual([]);
  });

  it("recovers from a one-off corrupted transfer with a fresh download", async () => {
    proxy.rules = [{ method: "GET", path: `/blobs/${layer()}`, fault: { kind: "corrupt", offset: 10 }, times: 1 }];
    const store = tempStore();
    await new Registry({ retry: fast }).pull(ref(), store);
    expect(await store.has(layer() as never)).toBe(true);
  });

  it("rejects a manifest whose bytes do not match the digest asked for", async () => {
    proxy.rules = [{ method: "GET", path: "/manifests/sha256:", fault: { kind: "corrupt", offset: 20 } }];
    await expect(new Registry({ retry: fast }).pull(`${proxy.host}/faults/img@${img.manifestDigest}`, tempStore())).rejects.toMatchObject({ code: "STRATA_REGISTRY_DIGEST_MISMATCH" });
    proxy.rules = [{ method: "GET", path: "/manifests/1", fault: { kind: "corrupt", offset: 20 } }];
    // By tag: the registry's Docker-Content-Digest header no longer matches the bytes.
    await expect(new Registry({ retry: fast }).pull(ref(), tempStore())).rejects.toMatchObject({ code: "STRATA_REGISTRY_DIGEST_MISMATCH" });
  });
});

describe("push through a misbehaving connection", () => {
  it("retries a blob upload whose PUT failed with 500, from a fresh session", async () => {
    const small = await busyboxImage(tempStore(), "retry-push");
    proxy.rules = [{ method: "PUT", path: "/blobs/uploads/", fault: { kind: "status", status: 500 }, times: 1 }];
    const res = await new Registry({ retry: fast }).push(await sourceFromStore(small.store, small.manifestDigest), `${proxy.host}/faults/push:1`);
    expect(res.digest).toBe(small.manifestDigest);
    const puts = proxy.log.filter((l) => l.method === "PUT" && l.path.includes("/blobs/uploads/"));
    expect(puts.map((p) => p.status)).toEqual([500, 201, 201]);
    const pulled = await new Registry().pull(`${reg.host}/faults/push:1`, tempStore());
    expect(pulled.digest).toBe(small.manifestDigest);
  });

  it("retries a chunked upload cut off mid-PATCH", async () => {
    const big = await randomImage(tempStore(), 1, 3 * 1024 * 1024);
    proxy.rules = [{ method: "PATCH", path: "/blobs/uploads/", fault: { kind: "status", status: 503 }, times: 1 }];
    const res = await new Registry({ retry: fast }).push(await sourceFromStore(big.store, big.manifestDigest), `${proxy.host}/faults/chunked:1`, { monolithicMax: 1 << 20, chunkSize: 1 << 20 });
    expect(res.digest).toBe(big.manifestDigest);
    const store = tempStore();
    await new Registry().pull(`${reg.host}/faults/chunked:1`, store);
    expect(await store.size(big.layers[0]!.digest)).toBe(3 * 1024 * 1024);
  });
});
