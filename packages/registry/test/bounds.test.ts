// Retry-After parsing and capping, deadlines, and manifests with unknown layer media types.
import { createServer } from "node:http";
import { afterEach, describe, expect, test } from "vitest";
import { parseManifest, RegistryTransport, requestDeadlineMs, retryAfterMs, transferDeadlineMs } from "../src/index.ts";

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe("Retry-After", () => {
  const now = Date.parse("2026-12-04T12:00:00Z");
  test("delay-seconds and HTTP-dates, capped at 60 s by default", () => {
    expect(retryAfterMs("5", now)).toBe(5000);
    expect(retryAfterMs(" 0 ", now)).toBe(0);
    expect(retryAfterMs("Fri, 04 Dec 2026 12:00:30 GMT", now)).toBe(30_000);
    expect(retryAfterMs("Fri, 04 Dec 2026 11:00:00 GMT", now)).toBe(0);
    expect(retryAfterMs("86400", now)).toBe(60_000);
    expect(retryAfterMs("Sat, 05 Dec 2026 12:00:00 GMT", now)).toBe(60_000);
  });
  test("absent or unreadable values fall back to the backoff", () => {
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs("soon", now)).toBeUndefined();
    expect(retryAfterMs("-3", now)).toBeUndefined();
    expect(retryAfterMs("12", now)).toBe(12_000);
  });
  test("STRATA_REGISTRY_RETRY_AFTER_MAX changes the cap", () => {
    process.env.STRATA_REGISTRY_RETRY_AFTER_MAX = "2";
    expect(retryAfterMs("30", now)).toBe(2000);
  });
});

describe("deadlines", () => {
  test("defaults and the variables that change them", () => {
    expect(requestDeadlineMs()).toBe(300_000);
    expect(transferDeadlineMs(64 * 1024 * 10)).toBe(310_000);
    process.env.STRATA_REGISTRY_DEADLINE = "7";
    process.env.STRATA_REGISTRY_MIN_RATE = "1m";
    expect(transferDeadlineMs(3 << 20)).toBe(10_000);
  });

  test("a server that answers one byte a second fails at the deadline, not at the idle timeout", async () => {
    const server = createServer((req, res) => {
      if (req.url === "/v2/") return void res.writeHead(200).end("{}");
      res.writeHead(200, { "content-type": "application/json" });
      const t = setInterval(() => res.write(" "), 100);
      res.on("close", () => clearInterval(t));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const a = server.address();
    const host = `127.0.0.1:${typeof a === "object" && a ? a.port : 0}`;
    try {
      process.env.STRATA_REGISTRY_DEADLINE = "1";
      const t = new RegistryTransport(host);
      const started = Date.now();
      const res = await t.request({ method: "GET", path: "/v2/x/manifests/y", scopes: [] });
      await expect(
        (async () => {
          for await (const _ of res.body) void _;
        })(),
      ).rejects.toMatchObject({ code: "STRATA_REGISTRY_TIMEOUT" });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe("layer media types", () => {
  const digest = `sha256:${"a".repeat(64)}`;
  const manifest = (layerType: string, configType = "application/vnd.oci.image.config.v1+json") =>
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: configType, digest, size: 2 }, layers: [{ mediaType: layerType, digest, size: 1 }] }));
  test("an image layer of unknown media type is refused", () => {
    expect(() => parseManifest(manifest("application/x-evil"), undefined)).toThrow(expect.objectContaining({ code: "STRATA_REGISTRY_UNKNOWN_MEDIA_TYPE" }));
    for (const ok of ["application/vnd.oci.image.layer.v1.tar", "application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.oci.image.layer.v1.tar+zstd", "application/vnd.docker.image.rootfs.diff.tar.gzip"]) {
      expect(parseManifest(manifest(ok), undefined).kind).toBe("manifest");
    }
  });
  test("artifacts (another config type) are not images and keep their layer types", () => {
    expect(parseManifest(manifest("application/vnd.in-toto+json", "application/vnd.oci.empty.v1+json"), undefined).kind).toBe("manifest");
  });
});
