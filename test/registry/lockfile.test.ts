import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Registry } from "@strata/registry";
import { busyboxImage, indexOf, startFaultProxy, startRegistry, tempStore, type StoredImage, type TestRegistry } from "@strata/registry/test-helpers";
import { dockerAvailable } from "../helpers/docker.ts";
import { DIGEST, dockerAsync, newHome, project, run } from "./helpers.ts";

const MODULE = (base: string) => `import { from } from "@strata/core";

export const other = from("${base.replace(/:[^:/]+$/, "")}:other").cmd(["true"]);

export default from("${base}")
  .copy("msg.txt", "/msg.txt")
  .cmd(["sh", "-c", "cat /etc/strata-message /msg.txt"]);
`;

interface Lock {
  lockfileVersion: number;
  platforms?: string[];
  images: Record<string, Record<string, { digest: string; index?: string }>>;
}
const readLock = (dir: string): Lock => JSON.parse(readFileSync(join(dir, "strata.lock"), "utf8")) as Lock;

async function push(r: TestRegistry, ref: string, img: StoredImage): Promise<string> {
  const res = await new Registry().push({ manifest: img.manifest, blobs: img.store }, `${r.host}/${ref}`);
  return res.digest;
}

describe("strata.lock", () => {
  let registry: TestRegistry;
  let v1: string;
  let other: string;

  beforeAll(async () => {
    registry = await startRegistry();
    v1 = await push(registry, "lock/base:1", await busyboxImage(tempStore(), "base v1"));
    other = await push(registry, "lock/base:other", await busyboxImage(tempStore(), "other"));
  });
  afterAll(async () => {
    await registry?.stop();
  });

  test("strata lock pins every target's images; builds then use the pins, and a warm rebuild opens no socket at all", async () => {
    const proxy = await startFaultProxy(registry.url);
    const base = `${proxy.host}/lock/base:1`;
    const dir = await project({ "app.image.ts": MODULE(base), "msg.txt": "app\n" });
    const home = newHome();
    const lock = await run(dir, home, ["lock", "app.image.ts"]);
    expect(lock.stderr).toContain("wrote strata.lock (2 image references)");
    expect(lock.code).toBe(0);
    const text = readFileSync(join(dir, "strata.lock"), "utf8");
    expect(JSON.parse(text)).toEqual({
      lockfileVersion: 1,
      platforms: ["linux/amd64"],
      images: {
        [base]: { "linux/amd64": { digest: v1 } },
        [`${proxy.host}/lock/base:other`]: { "linux/amd64": { digest: other } },
      },
    });
    expect(text.endsWith("}\n")).toBe(true);
    expect(readdirSync(dir).filter((f) => f.includes(".tmp"))).toEqual([]);

    // The tag moves on; the lock keeps the build on what it pinned.
    await push(registry, "lock/base:1", await busyboxImage(tempStore(), "base v2"));
    const tag = `strata-e2e/locked:${proxy.host.replace(/\W/g, "-")}`;
    const b1 = await run(dir, home, ["build", "app.image.ts", "--locked", "-t", tag, "--progress", "plain", ...(dockerAvailable() ? ["--load"] : [])]);
    expect(b1.stderr).toContain(`pulling ${base}`);
    expect(b1.code).toBe(0);
    expect(b1.stdout).toMatch(DIGEST);
    if (dockerAvailable()) {
      const r = await dockerAsync(["run", "--rm", tag]);
      expect(r.stdout).toBe("base v1\napp\n");
      await dockerAsync(["rmi", "-f", tag]);
    }
    // Pinned references are not even looked up: a warm rebuild makes no connection.
    const connections = proxy.connections;
    const b2 = await run(dir, home, ["build", "app.image.ts", "--locked", "--progress", "quiet"]);
    expect(b2.code).toBe(0);
    expect(b2.stdout).toBe(b1.stdout);
    expect(proxy.connections).toBe(connections);
    // And with the registry's address closed, it still builds.
    await proxy.close();
    const b3 = await run(dir, home, ["build", "app.image.ts", "--locked", "--progress", "quiet"]);
    expect(b3.stderr).toContain("0 steps run");
    expect(b3.code).toBe(0);
    expect(b3.stdout).toBe(b1.stdout);
    // Without the lock the same build has to ask the registry, which is gone.
    rmSync(join(dir, "strata.lock"));
    const gone = await run(dir, home, ["build", "app.image.ts", "--progress", "quiet"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("STRATA_REGISTRY_UNREACHABLE");
    expect(gone.stderr).toMatch(/app\.image\.ts:5/);
  }, 60_000);

  test("--locked fails with a coded error when the lock is missing, or lacks a reference (with its position)", async () => {
    const base = `${registry.host}/lock/base:1`;
    const dir = await project({ "app.image.ts": MODULE(base), "msg.txt": "app\n" });
    const home = newHome();
    const missing = await run(dir, home, ["build", "app.image.ts", "--locked", "--progress", "quiet"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("error[STRATA_LOCKFILE_MISSING]");
    expect(missing.stderr).toContain("strata lock app.image.ts");
    expect((await run(dir, home, ["lock", "--check"])).stderr).toContain("STRATA_LOCKFILE_MISSING");

    expect((await run(dir, home, ["lock", "app.image.ts", "--target", "other"])).code).toBe(0);
    expect(Object.keys(readLock(dir).images)).toEqual([`${registry.host}/lock/base:other`]);
    const stale = await run(dir, home, ["build", "app.image.ts", "--locked", "--progress", "quiet"]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain(`error[STRATA_LOCKFILE_STALE]: ${registry.host}/lock/base:1 (linux/amd64) is not in`);
    expect(stale.stderr).toMatch(/app\.image\.ts:5/);
    const check = await run(dir, home, ["lock", "--check"]);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain(`lacks 1 reference: ${registry.host}/lock/base:1 (linux/amd64)`);

    // Locking the rest keeps the first entry; then everything is covered.
    expect((await run(dir, home, ["lock", "app.image.ts", "--target", "default"])).code).toBe(0);
    expect(Object.keys(readLock(dir).images).sort()).toEqual([`${registry.host}/lock/base:1`, `${registry.host}/lock/base:other`]);
    expect((await run(dir, home, ["lock", "--check"])).code).toBe(0);
    const ok = await run(dir, home, ["build", "app.image.ts", "--locked", "--progress", "quiet"]);
    expect(ok.code).toBe(0);
    // A second `strata lock` with nothing moved leaves the file alone.
    const again = await run(dir, home, ["lock"]);
    expect(again.stderr).toContain("strata.lock is up to date");
  }, 60_000);

  test("a Dockerfile's ARG defaults are locked; another --build-arg value is stale under --locked", async () => {
    const dir = await project({ Dockerfile: `ARG TAG=1\nFROM ${registry.host}/lock/base:\${TAG}\nCOPY msg.txt /msg.txt\n`, "msg.txt": "df\n" });
    const home = newHome();
    expect((await run(dir, home, ["lock"])).code).toBe(0);
    expect(Object.keys(readLock(dir).images)).toEqual([`${registry.host}/lock/base:1`]);
    const other = await run(dir, home, ["build", "--locked", "--build-arg", "TAG=other", "--progress", "quiet"]);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(`${registry.host}/lock/base:other (linux/amd64) is not in`);
    expect(other.stderr).toMatch(/Dockerfile:2/);
    expect((await run(dir, home, ["build", "--locked", "--progress", "quiet"])).code).toBe(0);
  }, 60_000);

  test("several platforms: each is pinned to its image, with the index it came from", async () => {
    const store = tempStore();
    const amd = await busyboxImage(store, "amd64", { os: "linux", architecture: "amd64" });
    const arm = await busyboxImage(store, "arm64", { os: "linux", architecture: "arm64" });
    const idx = await indexOf(store, [amd, arm]);
    const pushed = await new Registry().push({ index: idx.index, manifests: [amd, arm].map((i) => ({ manifest: i.manifest, blobs: store })) }, `${registry.host}/lock/multi:1`);
    const dir = await project({ "app.image.ts": `import { from } from "@strata/core";\nexport default from("${registry.host}/lock/multi:1").copy("msg.txt", "/msg.txt");\n`, "msg.txt": "m\n" });
    const home = newHome();
    const r = await run(dir, home, ["lock", "--platform", "linux/amd64", "--platform", "linux/arm64"]);
    expect(r.code).toBe(0);
    const lock = readLock(dir);
    expect(lock.platforms).toEqual(["linux/amd64", "linux/arm64/v8"]);
    expect(lock.images[`${registry.host}/lock/multi:1`]).toEqual({
      "linux/amd64": { digest: amd.manifestDigest, index: pushed.digest },
      "linux/arm64/v8": { digest: arm.manifestDigest, index: pushed.digest },
    });
    // The lock remembers its platforms: a plain `strata lock` re-resolves both.
    expect((await run(dir, home, ["lock"])).stderr).toContain("up to date (2 image references)");
    expect((await run(dir, home, ["build", "--locked", "--platform", "linux/arm64", "--progress", "quiet"])).code).toBe(0);
    expect((await run(dir, home, ["build", "--locked", "--platform", "linux/arm/v7", "--progress", "quiet"])).stderr).toContain("STRATA_LOCKFILE_STALE");
  }, 60_000);

  test("a reference pinned by digest in the module needs no lock: once pulled, rebuilds ask no registry", async () => {
    const proxy = await startFaultProxy(registry.url);
    try {
      const dir = await project({ "app.image.ts": `import { from } from "@strata/core";\nexport default from("${proxy.host}/lock/base@${v1}").copy("msg.txt", "/msg.txt");\n`, "msg.txt": "pinned\n" });
      const home = newHome();
      const first = await run(dir, home, ["build", "--progress", "quiet"]);
      expect(first.code).toBe(0);
      const connections = proxy.connections;
      expect(connections).toBeGreaterThan(0);
      const again = await run(dir, home, ["build", "--progress", "quiet", "--no-cache"]);
      expect(again.code).toBe(0);
      expect(again.stdout).toBe(first.stdout);
      expect(proxy.connections).toBe(connections);
      // It pins itself: --locked asks no lock entry for it.
      writeFileSync(join(dir, "strata.lock"), '{"lockfileVersion": 1, "images": {}}\n');
      expect((await run(dir, home, ["build", "--locked", "--progress", "quiet"])).code).toBe(0);
      expect((await run(dir, home, ["lock", "--check"])).code).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  test("a malformed lockfile is a coded error, not a crash", async () => {
    const dir = await project({ "app.image.ts": MODULE(`${registry.host}/lock/base:1`), "msg.txt": "x\n", "strata.lock": '{"lockfileVersion": 1, "images": {"a": {"linux/amd64": {"digest": "sha256:nope"}}}}' });
    const r = await run(dir, newHome(), ["build", "--progress", "quiet"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_LOCKFILE_INVALID]");
    expect(existsSync(join(dir, "strata.lock"))).toBe(true);
  });
});
