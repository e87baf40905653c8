import { mkdtempSync, readFileSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import { copyInto, REPO, scratchProject, strata } from "../helpers/cli.ts";
import { docker, dockerAvailable, dockerRun } from "../helpers/docker.ts";
import { missing } from "../helpers/requires.ts";

const GREETING = "Hello from Strata! This image was built without a Docker daemon.\n";
const home = () => mkdtempSync(join(tmpdir(), "strata-home-"));

describe("native build of the hello example", () => {
  test("two builds (other STRATA_HOME, other checkout path, other mtimes) give the same digest", () => {
    const a = strata(["build", "examples/hello/hello.image.ts", "--progress", "quiet"], { env: { STRATA_HOME: home() } });
    expect(a.stderr).toMatch(/^built sha256:[0-9a-f]{64} \(linux\/amd64, 1 layers/);
    expect(a.code).toBe(0);
    const dir = scratchProject();
    copyInto(join(REPO, "examples/hello"), join(dir, "elsewhere/hello"));
    utimesSync(join(dir, "elsewhere/hello/hello"), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const b = strata(["build", "elsewhere/hello/hello.image.ts", "--progress", "quiet"], { cwd: dir, env: { STRATA_HOME: home() } });
    expect(b.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
  });

  test("a no-op rebuild runs nothing", () => {
    const h = home();
    strata(["build", "examples/hello/hello.image.ts", "--progress", "quiet"], { env: { STRATA_HOME: h } });
    const again = strata(["build", "examples/hello/hello.image.ts", "--progress", "plain"], { env: { STRATA_HOME: h } });
    expect(again.stderr).toContain("COPY hello /hello CACHED");
    expect(again.stderr).toContain("0 steps run, 1 cached");
  });

  test("OCI archive and layout outputs are valid for skopeo and umoci", () => {
    const out = mkdtempSync(join(tmpdir(), "strata-out-"));
    const r = strata(["build", "examples/hello/hello.image.ts", "-t", "hello:test", "--progress", "quiet", "-o", `type=oci,dest=${out}/hello.tar`, "-o", `type=oci-layout,dest=${out}/layout`], { env: { STRATA_HOME: home() } });
    expect(r.code).toBe(0);
    const inspect = JSON.parse(spawnSync("skopeo", ["inspect", `oci-archive:${out}/hello.tar`], { encoding: "utf8" }).stdout) as { Layers: string[]; Labels: Record<string, string> };
    expect(inspect.Labels["org.opencontainers.image.title"]).toBe("hello");
    expect(inspect.Layers).toHaveLength(1);
    const unpack = spawnSync("umoci", ["unpack", "--rootless", "--image", `${out}/layout:hello:test`, `${out}/bundle`], { encoding: "utf8" });
    expect(unpack.stderr).toBe("");
    expect(readFileSync(`${out}/bundle/rootfs/hello`).subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  });

  test.skipIf(missing({ dockerd: dockerAvailable() }))("docker loads the docker-archive and runs it", () => {
    const out = mkdtempSync(join(tmpdir(), "strata-out-"));
    const r = strata(["build", "examples/hello/hello.image.ts", "-t", "strata-e2e/hello:1", "--progress", "quiet", "-o", `type=docker,dest=${out}/hello.tar`], { env: { STRATA_HOME: home() } });
    expect(r.code).toBe(0);
    expect(docker(["load", "-i", `${out}/hello.tar`])).toContain("strata-e2e/hello:1");
    const run = dockerRun("strata-e2e/hello:1");
    expect(run.stdout).toBe(GREETING);
    expect(run.code).toBe(0);
  });

  test.skipIf(missing({ dockerd: dockerAvailable() }))("--load puts the image into dockerd", () => {
    const r = strata(["build", "examples/hello/hello.image.ts", "-t", "strata-e2e/hello:loaded", "--load", "--progress", "quiet"], { env: { STRATA_HOME: home() } });
    expect(r.code).toBe(0);
    expect(dockerRun("strata-e2e/hello:loaded").stdout).toBe(GREETING);
    const cfg = JSON.parse(docker(["image", "inspect", "strata-e2e/hello:loaded"])) as Array<{ Config: { Entrypoint: string[] }; Id: string }>;
    expect(cfg[0]!.Config.Entrypoint).toEqual(["/hello"]);
  });

  test("a bad output spec is a usage error and nothing is built", () => {
    const r = strata(["build", "examples/hello/hello.image.ts", "-o", "type=zip,dest=x"], { env: { STRATA_HOME: home() } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unsupported output type "zip"');
  });
});
