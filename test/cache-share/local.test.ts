import { existsSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { describe, expect, test } from "vitest";
import { FsBlobStore, writeLayer } from "@strata/oci";
import { DIGEST, newHome, run } from "../registry/helpers.ts";
import { buildArgs, cacheProject, counts } from "./helpers.ts";

/** The cache manifest in a local cache directory (an OCI layout). */
function localCache(dir: string) {
  const blob = (d: string) => join(dir, "blobs", "sha256", d.slice(7));
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as { manifests: Array<{ digest: string; artifactType: string }> };
  const entry = index.manifests.find((m) => m.artifactType === "application/vnd.strata.cache.v1+json")!;
  const manifest = JSON.parse(readFileSync(blob(entry.digest), "utf8")) as { config: { digest: string } };
  const config = JSON.parse(readFileSync(blob(manifest.config.digest), "utf8")) as {
    records: Record<string, { layers: Array<{ diffId: string }> }>;
    layers: Record<string, { digest: string; size: number }>;
    mounts: Record<string, unknown>;
  };
  return { blob, config };
}

/** Replaces a local cache's manifest by `edit(manifest)`, writing the new blobs (and `extra` blobs) in place. */
function rewriteCache(cache: string, edit: (config: Record<string, unknown>) => unknown, extra: Buffer[] = []): void {
  const put = (b: Buffer) => {
    const hex = createHash("sha256").update(b).digest("hex");
    writeFileSync(join(cache, "blobs", "sha256", hex), b);
    return { digest: `sha256:${hex}`, size: b.length };
  };
  for (const b of extra) put(b);
  const index = JSON.parse(readFileSync(join(cache, "index.json"), "utf8")) as { manifests: Array<{ digest: string }> };
  const manifest = JSON.parse(readFileSync(join(cache, "blobs", "sha256", index.manifests[0]!.digest.slice(7)), "utf8")) as { config: { digest: string } };
  const config = JSON.parse(readFileSync(join(cache, "blobs", "sha256", manifest.config.digest.slice(7)), "utf8")) as Record<string, unknown>;
  const c = put(Buffer.from(JSON.stringify(edit(config))));
  const m = put(Buffer.from(JSON.stringify({ ...manifest, config: { ...manifest.config, ...c } })));
  writeFileSync(join(cache, "index.json"), JSON.stringify({ ...index, manifests: [{ ...index.manifests[0], ...m }] }));
}

describe("sharing the cache through a directory (type=local)", () => {
  test("mode=min exports only the image's steps, no cache mounts; an empty store gets A's image without running the other stage", async () => {
    const dir = await cacheProject();
    const cache = join(dir, "cache-min");
    const a = await run(dir, newHome(), buildArgs("--cache-to", `type=local,dest=${cache}`));
    expect(a.code).toBe(0);
    expect(existsSync(join(cache, "oci-layout"))).toBe(true);
    const { config } = localCache(cache);
    expect(config.mounts).toEqual({});
    // The image: busybox, two COPYs and a RUN (4 steps with layers); the deps stage's RUN is not there.
    expect(Object.keys(config.records).length).toBe(4);

    // The deps stage's RUN is not in a min cache, but nothing needs it: the COPY --from that
    // reads it is served by key, so it never runs, and the image is A's to the byte.
    const b = await run(dir, newHome(), buildArgs("--cache-from", `type=local,src=${cache}`, "--explain"));
    expect(b.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
    expect(counts(b.stderr).run).toBe(0);
    expect(b.stderr).toContain("not run: every step that uses it is cached");
  }, 120_000);

  test("uncompressed layers; a symlinked or deleted blob in the directory is refused and its step reruns", async () => {
    const dir = await cacheProject();
    const cache = join(dir, "cache-max");
    const a = await run(dir, newHome(), buildArgs("--cache-to", `type=local,dest=${cache},mode=max,compression=uncompressed`));
    expect(a.code).toBe(0);
    const { blob, config } = localCache(cache);
    // Uncompressed: every layer blob is its own diffID.
    for (const [diffId, l] of Object.entries(config.layers)) expect(l.digest).toBe(diffId);
    const top = Object.values(config.records).sort((x, y) => y.layers.length - x.layers.length)[0]!;
    const last = top.layers[top.layers.length - 1]!.diffId;
    // The last layer's blob becomes a symlink to a file outside the layout holding the same bytes.
    const outside = join(dir, "outside-blob");
    writeFileSync(outside, readFileSync(blob(last)));
    unlinkSync(blob(last));
    symlinkSync(outside, blob(last));
    const b = await run(dir, newHome(), buildArgs("--cache-from", `type=local,src=${cache}`));
    expect(b.code).toBe(0);
    expect(b.stderr).toContain("is not a regular file");
    expect(counts(b.stderr).run).toBe(1);
    expect(b.stdout).not.toBe(a.stdout);

    rmSync(blob(last));
    const c = await run(dir, newHome(), buildArgs("--cache-from", `type=local,src=${cache}`));
    expect(c.code).toBe(0);
    expect(c.stderr).toContain("missing");
    expect(counts(c.stderr).run).toBe(1);
  }, 120_000);

  test("a cache mount bigger than cache-mount-max is not exported, with a warning; hostile cache manifests are warnings", async () => {
    const dir = await cacheProject();
    const cache = join(dir, "cache-cap");
    const a = await run(dir, newHome(), buildArgs("--cache-to", `type=local,dest=${cache},mode=max,cache-mount-max=8`));
    expect(a.code).toBe(0);
    expect(a.stderr).toContain('cache mount "strata-cache-test-dl" is bigger than cache-mount-max (8 bytes): not exported');
    expect(localCache(cache).config.mounts).toEqual({});

    // A cache manifest that names a layer it does not hold: the source is skipped, the build runs.
    rewriteCache(cache, (config) => ({ ...config, layers: {} }));
    const b = await run(dir, newHome(), buildArgs("--cache-from", `type=local,src=${cache}`));
    expect(b.code).toBe(0);
    expect(b.stdout).toMatch(DIGEST);
    expect(b.stderr).toMatch(/warning: cache source local:\S+ is not usable, building without it: .*which the cache does not hold/);
    expect(counts(b.stderr).cached).toBe(0);

    const missingDir = await run(dir, newHome(), buildArgs("--cache-from", `type=local,src=${join(dir, "no-such-cache")}`));
    expect(missingDir.code).toBe(0);
    expect(missingDir.stderr).toContain("is not usable");
    expect(readdirSync(cache).sort()).toEqual(["blobs", "index.json", "oci-layout"]);
  }, 120_000);

  test("a cache mount archive holding a device node or a fifo is refused: the mount starts empty, with a warning", async () => {
    const dir = await cacheProject();
    const cache = join(dir, "cache-evil");
    expect((await run(dir, newHome(), buildArgs("--cache-to", `type=local,dest=${cache},mode=max,compression=uncompressed`))).code).toBe(0);
    const scratch = new FsBlobStore(join(dir, "evil-blobs"));
    const evil = await writeLayer(
      [
        { type: "file", path: "downloaded", mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 4, content: { bytes: Buffer.from("evil") } },
        { type: "char-device", path: "mem", mode: 0o666, uid: 0, gid: 0, mtime: 0, devmajor: 1, devminor: 1 },
      ],
      { to: { store: scratch } },
    );
    const bytes = readFileSync(scratch.pathOf(evil.diffId));
    const blob = { mediaType: "application/vnd.strata.cache.mount.v1.tar", digest: evil.diffId, size: bytes.length, diffId: evil.diffId };
    rewriteCache(cache, (config) => ({ ...config, mounts: { "strata-cache-test-dl": blob } }), [bytes]);
    // A new step reads the mount: it must not see the hostile archive's file.
    const probe = await cacheProject(`FROM busybox\nRUN --mount=type=cache,id=strata-cache-test-dl,target=/dl ls -la /dl > /listing; (cat /dl/downloaded || echo none) > /seen\n`);
    const home = newHome();
    const r = await run(probe, home, buildArgs("--cache-from", `type=local,src=${cache}`, "-o", `type=oci-layout,dest=${probe}/out`));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: local:\S+: the archive of cache mount "strata-cache-test-dl" is unusable .*char-device/);
    const { ociFile } = await import("./layout-file.ts");
    expect(ociFile(`${probe}/out`, "seen")?.toString()).toBe("none\n");
  }, 120_000);

  test("a secret read by a step that fills a cache mount reaches no blob of the exported cache (a secret cannot nest in a cache mount)", async () => {
    const secret = `s3cr3t-${process.pid}-${Date.now()}`;
    const dir = await cacheProject(
      "FROM busybox\nRUN --mount=type=cache,id=strata-cache-test-secret,target=/dl --mount=type=secret,id=tok wc -c < /run/secrets/tok > /dl/len && echo kept > /dl/kept\n",
    );
    writeFileSync(join(dir, "tok.txt"), secret);
    const cache = join(dir, "cache-secret");
    const r = await run(dir, newHome(), buildArgs("--secret", `id=tok,src=${join(dir, "tok.txt")}`, "--cache-to", `type=local,dest=${cache},mode=max,compression=uncompressed`));
    expect(r.code, r.stderr).toBe(0);
    const { config } = localCache(cache);
    expect(Object.keys(config.mounts)).toEqual(["strata-cache-test-secret"]);
    const blobs = readdirSync(join(cache, "blobs", "sha256")).map((h) => readFileSync(join(cache, "blobs", "sha256", h)));
    // The mount's archive is there (its files are), the secret is in no blob of the cache.
    expect(blobs.some((b) => b.includes("kept\n") && b.includes(`${secret.length}\n`))).toBe(true);
    expect(blobs.filter((b) => b.includes(secret))).toEqual([]);
  }, 120_000);
});
