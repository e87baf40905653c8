// The examples build as a newcomer copies them: examples/node-service, copied out of the
// repository, builds offline (its base pointed at a local node image with --image) and its
// `npm ci` step installs from the app's own manifest (app/package.json, not the workspace one).
import { cpSync, mkdtempSync, rmSync, symlinkSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { REPO, strata } from "../helpers/cli.ts";
import { nodeBaseLayout } from "../helpers/node-base.ts";
import { docker, dockerAvailable } from "../helpers/docker.ts";
import { isRoot, missing } from "../helpers/requires.ts";

describe.skipIf(missing({ dockerd: dockerAvailable(), "root (RUN steps)": isRoot }))("examples build as a newcomer copies them", { timeout: 300_000 }, () => {
  const tag = `install-example-${process.pid}:1`;
  const work = mkdtempSync(join(tmpdir(), "install-example-"));
  afterAll(() => {
    docker(["rmi", "-f", tag]);
    rmSync(work, { recursive: true, force: true });
  });

  test("node-service, copied out of the repository: npm ci from app/, the service starts", async () => {
    const dir = join(work, "node-service");
    cpSync(join(REPO, "examples/node-service"), dir, { recursive: true, filter: (s) => !s.endsWith("node_modules") });
    mkdirSync(join(dir, "node_modules", "@strata"), { recursive: true });
    const links: ReadonlyArray<readonly [string, string]> = [["core", "packages/core"], ["graph", "packages/graph"], ["images", "images"]];
    for (const [name, path] of links) symlinkSync(join(REPO, path), join(dir, "node_modules", "@strata", name));
    const base = await nodeBaseLayout(work);
    const r = strata(["build", "service.image.ts", "-t", tag, "--load", "--progress", "plain", "--image", `node:22-slim=oci-layout:${base}`], { cwd: dir });
    expect(r.stderr).toContain("RUN npm ci --omit=dev");
    expect(r.code, r.stderr).toBe(0);
    const files = docker(["run", "--rm", "--entrypoint", "", tag, "ls", "/app", "/app/src"]);
    expect(files).toContain("server.js");
    expect(files).not.toContain("service.image.ts");
    const started = docker(["run", "--rm", "--entrypoint", "", tag, "sh", "-c", "node src/server.js & sleep 1; kill $!"]);
    expect(started).toContain("listening on :3000");
  });
});
