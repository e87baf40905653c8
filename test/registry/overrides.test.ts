import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Registry } from "@strata/registry";
import { busyboxImage, freePort, startFaultProxy, startRegistry, tempStore, type TestRegistry } from "@strata/registry/test-helpers";
import { dockerAvailable, dockerImportBusybox } from "../helpers/docker.ts";
import { DIGEST, dockerAsync, newHome, project, run } from "./helpers.ts";

/** An image module whose base is a name nobody can reach: only an override or a mirror can build it. */
const MODULE = (base: string) => `import { from } from "@strata/core";\nexport default from("${base}").copy("msg.txt", "/msg.txt").cmd(["sh", "-c", "cat /etc/strata-message /msg.txt"]);\n`;

describe("--image overrides and registry mirrors", () => {
  let registry: TestRegistry;
  let closed: string;

  beforeAll(async () => {
    registry = await startRegistry();
    const img = await busyboxImage(tempStore(), "from the registry");
    const client = new Registry();
    await client.push({ manifest: img.manifest, blobs: img.store }, [`${registry.host}/over/base:1`, `${registry.host}/library/busybox:mirror-test`]);
    closed = `127.0.0.1:${await freePort()}`; // nothing listens here
  });
  afterAll(async () => {
    await registry?.stop();
  });

  test("REF=oci-layout, oci-archive, docker-archive and docker-daemon sources build without any registry", async () => {
    const ref = `${closed}/over/base:1`;
    const dir = await project({ "app.image.ts": MODULE(ref), "msg.txt": "app\n", "base.image.ts": 'import { from, ociLayout } from "@strata/core";\nexport default from(ociLayout("./busybox"));\n' });
    const home = newHome();
    // Archives of the base, written by strata itself.
    const made = await run(dir, home, ["build", "base.image.ts", "-t", "base:1", "-o", "type=oci,dest=base-oci.tar", "-o", "type=docker,dest=base-docker.tar", "--progress", "quiet"]);
    expect(made.code).toBe(0);
    const sources = ["oci-layout:./busybox", "oci-layout:busybox:latest", "oci-archive:base-oci.tar", "docker-archive:base-docker.tar"];
    if (dockerAvailable()) {
      dockerImportBusybox("strata-e2e/busybox:imported");
      sources.push("docker-daemon:strata-e2e/busybox:imported");
    }
    for (const source of sources) {
      const r = await run(dir, home, ["build", "app.image.ts", "--image", `${ref}=${source}`, "--progress", "quiet"]);
      expect(r.stderr, source).not.toContain("error");
      expect(r.code, source).toBe(0);
      expect(r.stdout).toMatch(DIGEST);
    }
    const bad = await run(dir, home, ["build", "app.image.ts", "--image", `${ref}=ftp:somewhere`, "--progress", "quiet"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown source");
  });

  test("REF=registry:OTHER builds from another registry, and overrides apply before the lockfile", async () => {
    const ref = `${closed}/over/base:1`;
    const other = `${registry.host}/over/base:1`;
    const dir = await project({ "app.image.ts": MODULE(ref), "msg.txt": "overridden\n" });
    const home = newHome();
    const lock = await run(dir, home, ["lock", "--image", `${ref}=registry:${other}`]);
    expect(lock.code).toBe(0);
    // The lock pins what the build will really pull: the override's reference.
    const text = JSON.parse((await import("node:fs")).readFileSync(join(dir, "strata.lock"), "utf8")) as { images: Record<string, unknown> };
    expect(Object.keys(text.images)).toEqual([other]);
    const tag = `strata-e2e/override:${registry.port}`;
    const b = await run(dir, home, ["build", "--locked", "--image", `${ref}=registry:${other}`, "-t", tag, "--progress", "quiet", ...(dockerAvailable() ? ["--load"] : [])]);
    expect(b.code).toBe(0);
    if (dockerAvailable()) {
      expect((await dockerAsync(["run", "--rm", tag])).stdout).toBe("from the registry\noverridden\n");
      await dockerAsync(["rmi", "-f", tag]);
    }
    // A local override needs no lock entry at all, even under --locked.
    writeFileSync(join(dir, "strata.lock"), '{"lockfileVersion": 1, "images": {}}\n');
    expect((await run(dir, home, ["build", "--locked", "--image", `${ref}=oci-layout:./busybox`, "--progress", "quiet"])).code).toBe(0);
    expect((await run(dir, home, ["build", "--locked", "--progress", "quiet"])).stderr).toContain("STRATA_LOCKFILE_STALE");
  });

  test("--registry-mirror serves Docker Hub names (no internet here), and another origin's, falling back to the origin", async () => {
    const dir = await project({ "app.image.ts": MODULE("busybox:mirror-test"), "msg.txt": "mirrored\n" });
    const home = newHome();
    const hub = await run(dir, home, ["build", "--registry-mirror", registry.host, "--progress", "plain"]);
    expect(hub.stderr).toContain("pulling busybox:mirror-test");
    expect(hub.code).toBe(0);
    const pulled = await run(dir, newHome(), ["pull", "busybox:mirror-test", "--registry-mirror", `http://${registry.host}`]);
    expect(pulled.code).toBe(0);
    expect(pulled.stdout).toMatch(DIGEST);

    // A mirror that has nothing (404 for everything): the origin answers instead.
    const empty = await startFaultProxy(registry.url);
    empty.rules = [{ path: "/v2/over/", fault: { kind: "status", status: 404 } }];
    try {
      const other = await project({ "app.image.ts": MODULE(`${registry.host}/over/base:1`), "msg.txt": "fallback\n" });
      const r = await run(other, newHome(), ["build", "--registry-mirror", `${registry.host}=${empty.host}`, "--progress", "plain"]);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`mirror ${empty.host} could not resolve`);
      expect(empty.log.some((e) => e.path.startsWith("/v2/over/base/manifests/1"))).toBe(true);
      // An origin that is down: the mirror alone serves it.
      const down = await project({ "app.image.ts": MODULE(`${closed}/over/base:1`), "msg.txt": "down\n" });
      const m = await run(down, newHome(), ["build", "--registry-mirror", `${closed}=${registry.host}`, "--progress", "quiet"]);
      expect(m.code).toBe(0);
    } finally {
      await empty.close();
    }
  });
});
