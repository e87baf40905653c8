import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startRegistry, type TestRegistry } from "@strata/registry/test-helpers";
import { docker, dockerAvailable, dockerRun } from "../helpers/docker.ts";
import { missing } from "../helpers/requires.ts";
import { appModule, dockerAsync, newHome, project, run } from "./helpers.ts";

/** What the registry says the tag points at (Docker-Content-Digest of the manifest), and the manifest. */
async function registryManifest(registry: TestRegistry, repo: string, tag: string): Promise<{ digest: string; mediaType: string; size: number }> {
  const r = await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, {
    headers: { accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json" },
  });
  expect(r.status).toBe(200);
  const body = Buffer.from(await r.arrayBuffer());
  return { digest: r.headers.get("docker-content-digest")!, mediaType: r.headers.get("content-type")!, size: body.length };
}

describe.skipIf(missing({ dockerd: dockerAvailable() }))("what strata build prints and writes: image ID, --iidfile, --metadata-file, pushed digests", () => {
  let registry: TestRegistry;
  const cleanup: string[] = [];
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    for (const t of cleanup) await dockerAsync(["rmi", "-f", t]);
    await registry?.stop();
  });

  test("stdout's last line and --iidfile are docker's image ID; --metadata-file and `pushed` name the registry's digest", async () => {
    const dir = await project(appModule('ociLayout("./busybox")', "metadata"));
    const home = newHome();
    const name = `${registry.host}/buildx/meta`;
    cleanup.push(`${name}:1`, `${name}:2`);
    const r = await run(dir, home, ["build", "app.image.ts", "-t", `${name}:1`, "-t", `${name}:2`, "--label", "org.example.team=buildx", "--push", "--load", "--iidfile", "out/iid", "--metadata-file", "meta.json", "--progress", "plain"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    const id = lines[lines.length - 1]!;
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(readFileSync(join(dir, "out", "iid"), "utf8")).toBe(id);
    expect(docker(["image", "inspect", "--format", "{{.Id}}", `${name}:1`]).trim()).toBe(id);
    expect(docker(["image", "inspect", "--format", "{{index .Config.Labels \"org.example.team\"}}", `${name}:1`]).trim()).toBe("buildx");
    expect(dockerRun(`${name}:1`).stdout).toBe("metadata\n");

    const remote = await registryManifest(registry, "buildx/meta", "1");
    expect((await registryManifest(registry, "buildx/meta", "2")).digest).toBe(remote.digest);
    expect(r.stderr).toContain(`pushed ${name}:1@${remote.digest}`);
    expect(r.stderr).toContain(`pushed ${name}:2@${remote.digest}`);
    const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as Record<string, unknown>;
    expect(meta).toEqual({
      "containerimage.config.digest": id,
      "containerimage.descriptor": { mediaType: remote.mediaType, digest: remote.digest, size: remote.size },
      "containerimage.digest": remote.digest,
      "image.name": `${name}:1,${name}:2`,
    });
  });

  test("-q prints only the image ID; without a push, the metadata names the stored manifest", async () => {
    const dir = await project(appModule('ociLayout("./busybox")', "quiet"));
    const home = newHome();
    const r = await run(dir, home, ["build", "-q", "app.image.ts", "--metadata-file", "meta.json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as Record<string, { digest: string } | string>;
    expect(meta["containerimage.config.digest"]).toBe(r.stdout.trim());
    expect(meta["containerimage.digest"]).toMatch(/^sha256:/);
    expect(meta["containerimage.digest"]).not.toBe(r.stdout.trim());
    expect((meta["containerimage.descriptor"] as { digest: string }).digest).toBe(meta["containerimage.digest"]);
    // The layout output's manifest is the one named.
    const oci = await run(dir, home, ["build", "-q", "app.image.ts", "-o", "type=oci-layout,dest=layout,compression=uncompressed"]);
    expect(oci.code, oci.stderr).toBe(0);
    const index = JSON.parse(readFileSync(join(dir, "layout", "index.json"), "utf8")) as { manifests: { digest: string }[] };
    expect(index.manifests[0]!.digest).toBe(meta["containerimage.digest"]);
  });
});

describe("--pull", () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  test("asks the registry for the tag's current digest where the lockfile pins an older one", async () => {
    const base = `${registry.host}/buildx/base:1`;
    const home = newHome();
    let dir = "";
    for (const message of ["v1", "v2"]) {
      const src = await project(appModule('ociLayout("./busybox")', message));
      const pushed = await run(src, home, ["build", "app.image.ts", "-t", base, "--push", "-q"]);
      expect(pushed.code, pushed.stderr).toBe(0);
      if (message === "v1") {
        dir = await project({ Dockerfile: `FROM ${base}\n` });
        const locked = await run(dir, home, ["lock", "Dockerfile"]);
        expect(locked.code, locked.stderr).toBe(0);
      }
    }
    const pinned = await run(dir, home, ["build", "Dockerfile", "-o", "type=local,dest=pinned"]);
    expect(pinned.code, pinned.stderr).toBe(0);
    expect(readFileSync(join(dir, "pinned", "msg.txt"), "utf8")).toBe("v1\n");
    const pulled = await run(dir, home, ["build", "Dockerfile", "--pull", "-o", "type=local,dest=pulled"]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(readFileSync(join(dir, "pulled", "msg.txt"), "utf8")).toBe("v2\n");
    // --build-context NAME=docker-image://REF: `FROM NAME` reads that registry image.
    writeFileSync(join(dir, "Dockerfile.named"), "FROM base\n");
    const named = await run(dir, home, ["build", "-f", "Dockerfile.named", "--build-context", `base=docker-image://${base}`, "--pull", "-o", "type=local,dest=named"]);
    expect(named.code, named.stderr).toBe(0);
    expect(readFileSync(join(dir, "named", "msg.txt"), "utf8")).toBe("v2\n");
  });
});
