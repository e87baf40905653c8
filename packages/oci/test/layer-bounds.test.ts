// Decompression bombs: a small gzip layer that inflates past the bound, and a tar with more
// entries than the bound, fail with coded errors as the bound is crossed.
import { statSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, test } from "vitest";
import { decompressed, extractLayer, layerLimits, DEFAULT_MAX_LAYER_BYTES, DEFAULT_MAX_LAYER_ENTRIES } from "../src/index.ts";
import { TarParser } from "../src/tar/parser.ts";
import { craftTar } from "./tar-craft.ts";
import { tempDir } from "./helpers.ts";

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe("layer bounds", () => {
  // 64 MiB of zeros in one file: about 64 KiB of gzip.
  const bomb = gzipSync(craftTar([{ name: "zeros", content: Buffer.alloc(64 << 20) }]), { level: 9 });

  test("the bomb is small and the defaults are far above real layers", () => {
    expect(bomb.length).toBeLessThan(1 << 20);
    expect(layerLimits({})).toEqual({ maxBytes: DEFAULT_MAX_LAYER_BYTES, maxEntries: DEFAULT_MAX_LAYER_ENTRIES });
    expect(layerLimits({ STRATA_MAX_LAYER_BYTES: "8m", STRATA_MAX_LAYER_ENTRIES: "10" })).toEqual({ maxBytes: 8 << 20, maxEntries: 10 });
  });

  test("decompressed() stops at the bound, without inflating the rest", async () => {
    let out = 0;
    await expect(
      (async () => {
        for await (const c of decompressed([bomb], 8 << 20)) out += c.length;
      })(),
    ).rejects.toMatchObject({ code: "STRATA_LAYER_TOO_LARGE", hint: expect.stringContaining("STRATA_MAX_LAYER_BYTES") });
    expect(out).toBeLessThanOrEqual(8 << 20);
  });

  test("extraction of a gzip bomb fails once STRATA_MAX_LAYER_BYTES is crossed, having written at most that", async () => {
    process.env.STRATA_MAX_LAYER_BYTES = "8m";
    const root = tempDir();
    await expect(extractLayer([bomb], root, { mode: "apply" })).rejects.toMatchObject({ code: "STRATA_LAYER_TOO_LARGE" });
    const written = readdirSync(root).reduce((n, f) => n + statSync(join(root, f)).size, 0);
    expect(written).toBeLessThanOrEqual(8 << 20);
  });

  test("more entries than STRATA_MAX_LAYER_ENTRIES is a coded error", async () => {
    process.env.STRATA_MAX_LAYER_ENTRIES = "50";
    const many = craftTar(Array.from({ length: 100 }, (_, i) => ({ name: `f${i}`, content: "" })));
    await expect(extractLayer([many], tempDir(), { mode: "apply" })).rejects.toMatchObject({ code: "STRATA_LAYER_TOO_MANY_ENTRIES", hint: expect.stringContaining("STRATA_MAX_LAYER_ENTRIES") });
    const parser = new TarParser({ entry() {}, data() {}, entryEnd() {} }, { maxEntries: 100 });
    expect(() => parser.write(many)).not.toThrow();
  });
});
