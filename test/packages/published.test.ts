// The published packages, end to end on a real registry (verdaccio): the workspace is copied as
// a fresh clone would be, `pnpm install`ed and `pnpm -r publish`ed; a third-party image package
// (@acme/images) is published next to them; then a project OUTSIDE the repository uses them with
// plain npm, as a user would. Each step's duration is printed (the README quotes them).
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { REPO } from "../helpers/cli.ts";
import { busyboxLayout } from "../helpers/busybox.ts";
import { nodeBaseLayout } from "../helpers/node-base.ts";
import { docker, dockerAvailable, dockerRun } from "../helpers/docker.ts";
import { isRoot, missing } from "../helpers/requires.ts";
import { registryAvailable, startRegistry, type Registry } from "../helpers/verdaccio.ts";

const FIXTURES = join(import.meta.dirname, "fixtures", "acme-images");
const PUBLIC = ["packages/graph", "packages/core", "packages/dockerfile", "packages/codegen", "packages/oci", "packages/registry", "packages/engine", "packages/cli", "images"];
const skip = missing({ "verdaccio (.ci/run installs it; or set STRATA_VERDACCIO / STRATA_TEST_NPM_REGISTRY)": registryAvailable(), dockerd: dockerAvailable(), "root (RUN steps)": isRoot });
const TAG = `install-e2e-${process.pid}`;
const timings: Array<[string, number]> = [];

interface Run {
  readonly code: number;
  readonly out: string;
}

/** This process's environment without what pnpm put there for its own scripts (npm_config_registry…). */
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|pnpm_)/i.test(k)));

function sh(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Run {
  const t = Date.now();
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...baseEnv, NO_COLOR: "1", FORCE_COLOR: "0", ...env }, maxBuffer: 1 << 28 });
  timings.push([`${cmd} ${args.join(" ")}`.slice(0, 110), Date.now() - t]);
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

function ok(r: Run): string {
  if (r.code !== 0) throw new Error(`exit ${r.code}:\n${r.out.slice(-6000)}`);
  return r.out;
}

describe.skipIf(skip)("the published packages, used from a project outside the repository with plain npm", { timeout: 300_000 }, () => {
  let registry: Registry;
  let work: string;
  let version: string;
  let consumer: string;
  let home: string;
  let env: NodeJS.ProcessEnv;

  const strata = (args: readonly string[], cwd = consumer) => sh("npx", ["--no-install", "strata", ...args], cwd, env);

  beforeAll(async () => {
    registry = await startRegistry();
    work = mkdtempSync(join(tmpdir(), "install-e2e-"));
    home = join(work, "strata-home");
    // npm's cache and config are this run's own; the registry is verdaccio.
    writeFileSync(join(work, ".npmrc"), registry.npmrc);
    env = { npm_config_registry: `${registry.url}/`, npm_config_userconfig: join(work, ".npmrc"), npm_config_cache: join(work, "npm-cache"), npm_config_update_notifier: "false", npm_config_audit: "false", npm_config_fund: "false", STRATA_HOME: home };

    // A fresh clone: the tracked tree without node_modules or build output.
    const clone = join(work, "clone");
    cpSync(REPO, clone, { recursive: true, filter: (src) => !/[\\/](node_modules|dist|\.git|coverage|bench[\\/]results|\.strata)$/.test(src) && !relative(REPO, src).startsWith("tmp") });
    // A version of our own for this run, so a registry that outlives the run never refuses a re-publish.
    version = `0.1.${Math.floor(Date.now() / 1000)}`;
    for (const p of PUBLIC) {
      const f = join(clone, p, "package.json");
      writeFileSync(f, readFileSync(f, "utf8").replace(/"version": "0\.1\.0"/, `"version": "${version}"`));
    }
    writeFileSync(join(clone, ".npmrc"), registry.npmrc);
    ok(sh("pnpm", ["install", "--frozen-lockfile", "--prefer-offline"], clone, env));
    const published = ok(sh("pnpm", ["-r", "publish", "--registry", `${registry.url}/`, "--no-git-checks"], clone, env));
    // On a registry that has never seen a package, pnpm asks for it first and reports the 404
    // (ERR_PNPM_FETCH_404): that is the first publish, not a failure. Any other error is.
    expect(published.split("\n").filter((l) => /ERR_PNPM/.test(l) && !/ERR_PNPM_FETCH_404/.test(l))).toEqual([]);

    for (const v of ["v1", "v2"]) {
      const dir = join(work, `acme-${v}`);
      cpSync(join(FIXTURES, v), dir, { recursive: true });
      const r = sh("npm", ["publish", "--registry", `${registry.url}/`], dir, env);
      // A registry that outlives one run (.ci/run's) already has the fixture: same bytes, fine.
      if (r.code !== 0 && !/EPUBLISHCONFLICT|cannot publish over|already present/i.test(r.out)) ok(r);
    }
    consumer = join(work, "consumer");
    cpSync(join(FIXTURES, "..", "consumer"), consumer, { recursive: true });
    await busyboxLayout(consumer);
  }, 900_000);

  afterAll(async () => {
    console.log(`\nuser journey timings (ms):\n${timings.map(([s, ms]) => `  ${String(ms).padStart(7)}  ${s}`).join("\n")}`);
    spawnSync("/usr/bin/docker", ["rmi", "-f", `${TAG}-acme:1`, `${TAG}-empty:1`, `${TAG}-node:1`], { stdio: "ignore" });
    await registry?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("every public package is on the registry, installable with its dependencies", async () => {
    for (const name of ["@strata/graph", "@strata/core", "@strata/dockerfile", "@strata/codegen", "@strata/oci", "@strata/registry", "@strata/engine", "@strata/cli", "@strata/images"]) {
      const meta = (await (await fetch(`${registry.url}/${name.replace("/", "%2f")}`)).json()) as { versions: Record<string, { dependencies?: Record<string, string>; exports?: unknown; files?: string[] }> };
      const v = meta.versions[version];
      expect(v, name).toBeDefined();
      expect(JSON.stringify(v!.dependencies ?? {}), name).not.toContain("workspace:");
    }
  });

  test("(1) npm i -D @strata/cli @strata/core @acme/images: check passes, build builds, docker runs what the fragment set", () => {
    ok(sh("npm", ["i", "-D", `@strata/cli@${version}`, `@strata/core@${version}`, "@acme/images@1.0.0"], consumer, env));
    // Exactly one @strata/core: the project's, shared by @acme/images and the CLI.
    const copies = ok(sh("npm", ["ls", "@strata/core", "--all", "--parseable"], consumer, env)).trim().split("\n").filter(Boolean);
    expect(new Set(copies).size).toBe(1);
    expect(readdirSync(join(consumer, "node_modules", "@types"))).toContain("node"); // came with @strata/cli
    const check = strata(["check"]);
    expect(check.out).toContain("Checked 1 file: no errors.");
    expect(check.code).toBe(0);
    ok(strata(["build", "app.image.ts", "-t", `${TAG}-acme:1`, "--load", "--progress", "plain"]));
    const run = dockerRun(`${TAG}-acme:1`);
    expect(run.stdout).toBe("hello from acme\n");
    const config = JSON.parse(docker(["image", "inspect", `${TAG}-acme:1`, "--format", "{{json .Config}}"])) as { Env: string[]; Labels: Record<string, string>; User: string };
    expect(config.Env).toContain("GREETING=hello");
    expect(config.Labels["com.acme.greeter"]).toBe("v1");
    expect(config.User).toBe("1000");
  });

  test("(2) a misuse of the package's types fails strata check at the consumer's file:line:col", () => {
    writeFileSync(join(consumer, "misuse.image.ts"), readFileSync(join(consumer, "app.image.ts"), "utf8").replace('greeting: "hello"', "greeting: 42"));
    const r = strata(["check", "misuse.image.ts"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("error[TS2322]");
    expect(r.out).toMatch(/--> misuse\.image\.ts:6:30\b/);
    rmSync(join(consumer, "misuse.image.ts"));
  });

  test("(3) a breaking @acme/images@2.0.0, once installed, fails the consumer's check at the same call", () => {
    ok(sh("npm", ["i", "-D", "@acme/images@2.0.0"], consumer, env));
    const r = strata(["check"]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/error\[TS2353\]|error\[TS2561\]/);
    expect(r.out).toMatch(/--> app\.image\.ts:6:30\b/);
    expect(r.out).toContain("'greeting' does not exist in type 'GreeterOptions'");
    ok(sh("npm", ["i", "-D", "@acme/images@1.0.0"], consumer, env));
  });

  test("a global strata in a bare directory (no node_modules) loads its own @strata/core", () => {
    const dir = join(work, "bare");
    cpSync(join(FIXTURES, "..", "bare"), dir, { recursive: true });
    const bin = join(consumer, "node_modules", "@strata", "cli", "bin", "strata.js");
    const r = ok(sh("node", [bin, "graph", "app.image.ts", "--format", "json"], dir, env));
    expect(r).toContain('"createdBy": "LABEL where=bare"');
  });

  test("(4) strata init in an empty directory, then npm install and build: it runs", async () => {
    const dir = join(work, "empty-project");
    const bin = join(consumer, "node_modules", "@strata", "cli", "bin", "strata.js");
    ok(sh("node", [bin, "init", dir], work, env)); // a global `strata` in a new directory
    ok(sh("npm", ["install"], dir, env));
    ok(sh("npm", ["run", "image:check"], dir, env));
    const layout = await busyboxLayout(work);
    ok(sh("npm", ["run", "image:build", "--", "-t", `${TAG}-empty:1`, "--load", "--image", `busybox:1.37=oci-layout:${layout}`], dir, env));
    const run = dockerRun(`${TAG}-empty:1`);
    expect(run.stdout).toMatch(/^hello from strata\n/);
    expect(run.stdout).toContain("package.json");
    expect(run.stdout).not.toContain("node_modules"); // .dockerignore
  });

  test("(4) strata init in a small Node project, then npm install and build: the service runs", async () => {
    const dir = join(work, "node-project");
    cpSync(join(FIXTURES, "..", "node-project"), dir, { recursive: true });
    const bin = join(consumer, "node_modules", "@strata", "cli", "bin", "strata.js");
    ok(sh("node", [bin, "init"], dir, env));
    ok(sh("npm", ["install"], dir, env));
    ok(sh("npm", ["run", "image:check"], dir, env));
    const layout = await nodeBaseLayout(work);
    ok(sh("npm", ["run", "image:build", "--", "-t", `${TAG}-node:1`, "--load", "--image", `node:22-slim=oci-layout:${layout}`], dir, env));
    const run = dockerRun(`${TAG}-node:1`);
    expect(run.stdout).toContain("node-project says hi on port 3000");
    const config = JSON.parse(docker(["image", "inspect", `${TAG}-node:1`, "--format", "{{json .Config}}"])) as { Env: string[]; User: string };
    expect(config.Env).toContain("NODE_ENV=production");
    expect(config.User).toBe("node");
  });
});
