import { describe, expect, it } from "vitest";
import { MediaType } from "@strata/oci";
import { parseManifest, sha256Of } from "../src/index.ts";

const D = `sha256:${"ab".repeat(32)}`;
const desc = (extra: Record<string, unknown> = {}) => ({ mediaType: MediaType.OciLayerGzip, digest: D, size: 3, ...extra });
const bytes = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o));

describe("parseManifest", () => {
  it("keeps the exact bytes and digests them, whitespace and key order included", () => {
    const raw = new TextEncoder().encode(`{ "schemaVersion": 2,\n "layers": [], "config": ${JSON.stringify(desc({ mediaType: MediaType.OciConfig }))} }`);
    const m = parseManifest(raw, MediaType.OciManifest);
    expect(m.kind).toBe("manifest");
    expect(m.raw).toBe(raw);
    expect(m.digest).toBe(sha256Of(raw));
  });

  it("takes the media type from the JSON, then Content-Type, then the shape", () => {
    expect(parseManifest(bytes({ schemaVersion: 2, mediaType: MediaType.DockerManifestList, manifests: [] }), "application/json").mediaType).toBe(MediaType.DockerManifestList);
    expect(parseManifest(bytes({ schemaVersion: 2, config: desc(), layers: [] }), `${MediaType.DockerManifest}; charset=utf-8`).mediaType).toBe(MediaType.DockerManifest);
    expect(parseManifest(bytes({ schemaVersion: 2, manifests: [] }), "application/json").kind).toBe("index");
  });

  it.each([
    ["schema 1", { schemaVersion: 1, fsLayers: [] }, /schema 1/],
    ["not JSON", "nope", /not valid JSON/],
    ["a path in a digest", { schemaVersion: 2, config: desc({ digest: "sha256:../../etc/passwd" }), layers: [] }, /invalid descriptor/],
    ["a negative size", { schemaVersion: 2, config: desc(), layers: [desc({ size: -1 })] }, /invalid descriptor/],
    ["an index entry without a digest", { schemaVersion: 2, manifests: [{ mediaType: MediaType.OciManifest, size: 1 }] }, /invalid descriptor/],
    ["no layers", { schemaVersion: 2, mediaType: MediaType.OciManifest, config: desc() }, /lacks a config/],
    ["an unknown media type", { schemaVersion: 2, mediaType: "application/x-weird" }, /unsupported media type/],
  ])("rejects %s", (_name, body, reason) => {
    const raw = typeof body === "string" ? new TextEncoder().encode(body) : bytes(body);
    expect(() => parseManifest(raw, undefined)).toThrow(expect.objectContaining({ code: "STRATA_REGISTRY_MANIFEST_INVALID", message: expect.stringMatching(reason) }));
  });
});
