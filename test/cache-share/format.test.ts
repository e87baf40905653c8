import { describe, expect, test } from "vitest";
import { StrataError } from "@strata/graph";
import { encodeCacheManifest, parseCacheFrom, parseCacheTo, parseCacheManifest, DEFAULT_CACHE_MOUNT_MAX, type CacheManifest } from "@strata/engine/light";
import { dockerCacheFlags } from "../../packages/cli/src/commands/build-docker.ts";

const d = (c: string) => `sha256:${c.repeat(64)}` as `sha256:${string}`;

const GOOD = {
  strataCache: 1,
  keyVersion: 1,
  records: { [d("a")]: { layers: [{ diffId: d("b"), size: 10 }], added: true, base: { configDigest: d("c") } } },
  layers: { [d("b")]: { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: d("e"), size: 5, diffId: d("b") } },
  configs: { [d("c")]: { mediaType: "application/vnd.oci.image.config.v1+json", digest: d("c"), size: 3 } },
  mounts: { npm: { mediaType: "application/vnd.strata.cache.mount.v1.tar+gzip", digest: d("f"), size: 7, diffId: d("1") } },
} as unknown as CacheManifest & { records: Record<string, unknown>; layers: Record<string, unknown>; mounts: Record<string, Record<string, unknown>> };

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof StrataError ? `${e.code}: ${e.message}` : `not coded: ${String(e)}`;
  }
  return undefined;
}

const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

describe("the cache manifest format", () => {
  test("round-trips, with canonical bytes (the same cache, the same digest)", () => {
    const enc = encodeCacheManifest(GOOD);
    expect(parseCacheManifest(enc, "test")).toEqual(GOOD);
    const shuffled = { mounts: GOOD.mounts, configs: GOOD.configs, layers: GOOD.layers, records: GOOD.records, keyVersion: 1, strataCache: 1 } as CacheManifest;
    expect(Buffer.from(encodeCacheManifest(shuffled)).equals(Buffer.from(enc))).toBe(true);
  });

  test("a manifest for another key version is an empty cache (its keys cannot match)", () => {
    expect(parseCacheManifest(bytes({ ...GOOD, keyVersion: 99 }), "test").records).toEqual({});
  });

  test.each([
    ["not JSON", new TextEncoder().encode("{nope")],
    ["another format", bytes({ ...GOOD, strataCache: 2 })],
    ["an array", bytes([GOOD])],
    ["a record naming a layer the cache lacks", bytes({ ...GOOD, layers: {} })],
    ["a layer keyed by something else", bytes({ ...GOOD, layers: { [d("9")]: GOOD.layers[d("b")] } })],
    ["a path as a digest", bytes({ ...GOOD, layers: { [d("b")]: { ...GOOD.layers[d("b")], digest: "sha256:../../etc/passwd" } } })],
    ["a negative size", bytes({ ...GOOD, layers: { [d("b")]: { ...GOOD.layers[d("b")], size: -1 } } })],
    ["a record key that is no digest", bytes({ ...GOOD, records: { "../x": GOOD.records[d("a")] } })],
    ["a base config the cache lacks", bytes({ ...GOOD, configs: {} })],
    ["a mount without a diffId", bytes({ ...GOOD, mounts: { npm: { ...GOOD.mounts.npm, diffId: "x" } } })],
    ["invalid UTF-8", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
  ])("refuses %s with STRATA_CACHE_MANIFEST_INVALID", (_what, input) => {
    expect(code(() => parseCacheManifest(input, "registry:r/x:cache"))).toMatch(/^STRATA_CACHE_MANIFEST_INVALID: the cache manifest from registry:r\/x:cache is unusable/);
  });
});

describe("--cache-from / --cache-to", () => {
  test("buildx's spellings", () => {
    expect(parseCacheFrom("type=registry,ref=r.example/app:cache", "/w")).toEqual({ type: "registry", ref: "r.example/app:cache" });
    expect(parseCacheFrom("r.example/app:cache", "/w")).toEqual({ type: "registry", ref: "r.example/app:cache" });
    expect(parseCacheFrom("type=local,src=c", "/w")).toEqual({ type: "local", src: "/w/c" });
    expect(parseCacheTo("type=registry,ref=r/app:cache", "/w")).toEqual({ type: "registry", ref: "r/app:cache", mode: "min", compression: "gzip", mountMax: DEFAULT_CACHE_MOUNT_MAX });
    expect(parseCacheTo("type=local,dest=c,mode=max,compression=uncompressed,cache-mount-max=2g,ignore-error=true", "/w")).toEqual({
      type: "local",
      dest: "/w/c",
      mode: "max",
      compression: "uncompressed",
      mountMax: 2 * 1024 ** 3,
      ignoreError: true,
    });
  });

  test.each([
    ["--cache-from", "type=gha"],
    ["--cache-from", "type=registry"],
    ["--cache-from", "type=local,src=c,tag=x"],
    ["--cache-from", "type=registry,ref=a,ref=b"],
    ["--cache-from", "type=registry,ref=a,mode=max"],
    ["--cache-to", "type=inline"],
    ["--cache-to", "type=registry,ref=r/a,mode=all"],
    ["--cache-to", "type=registry,ref=r/a,compression=zstd"],
    ["--cache-to", "type=local"],
    ["--cache-to", "type=local,dest=c,cache-mount-max=lots"],
  ])("%s %s is a usage error, never ignored", (flag, value) => {
    const parse = flag === "--cache-from" ? () => parseCacheFrom(value, "/w") : () => parseCacheTo(value, "/w");
    expect(code(parse)).toMatch(/^STRATA_USAGE: /);
  });

  test("--engine docker: buildx takes both as written; plain docker build only an image's inline cache", () => {
    expect(dockerCacheFlags(["type=local,src=c"], ["type=registry,ref=r/a:cache,mode=max"], true)).toEqual(["--cache-from", "type=local,src=c", "--cache-to", "type=registry,ref=r/a:cache,mode=max"]);
    expect(dockerCacheFlags(["type=registry,ref=r/a:cache", "r/b:1"], [], false)).toEqual(["--cache-from", "r/a:cache", "--cache-from", "r/b:1"]);
    expect(code(() => dockerCacheFlags(["type=local,src=c"], [], false))).toMatch(/^STRATA_USAGE: .*inline cache/);
    expect(code(() => dockerCacheFlags([], ["type=registry,ref=r/a"], false))).toMatch(/^STRATA_USAGE: --cache-to .*cannot export a cache/);
    expect(code(() => dockerCacheFlags([], ["type=local,dest=c,cache-mount-max=1g"], true))).toMatch(/^STRATA_USAGE: .*cache-mount-max/);
  });
});
