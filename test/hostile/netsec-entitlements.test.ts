import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { busyboxLayout } from "../helpers/busybox.ts";
import { scratchProject, strataAsync } from "../helpers/cli.ts";
import { dockerAvailable } from "../helpers/docker.ts";
import { missing } from "../helpers/requires.ts";
import { netsecNeeds } from "./netsec-helpers.ts";

// `network: host` and `security: insecure` are entitlements, refused unless `--allow` grants
// them (buildx's spelling), under each executor.
const skip = missing(netsecNeeds(["runc", "slirp4netns"]));
const BASE = "strata.invalid/netsec/busybox:1";
const dirs: string[] = [];
let dir = "";
let home = "";

beforeAll(async () => {
  if (skip) return;
  dir = scratchProject({
    "host.Dockerfile": `FROM ${BASE}\nRUN echo start\nRUN --network=host ls /sys/class/net > /nets\n`,
    "insecure.Dockerfile": `FROM ${BASE}\nRUN --security=insecure grep CapEff /proc/self/status > /caps\n`,
  });
  await busyboxLayout(dir);
  home = mkdtempSync(join(tmpdir(), "strata-netsec-home-"));
  dirs.push(dir, home);
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const build = (file: string, executor: string, extra: string[] = []) =>
  strataAsync(["build", file, "--image", `${BASE}=oci-layout:./busybox`, "--executor", executor, "--progress", "plain", "--no-cache", ...extra], { cwd: dir, env: { STRATA_HOME: home } });

describe.skipIf(skip).each(["runc", "sandbox"])("%s executor", (executor) => {
  it("refuses RUN --network=host without --allow network.host, at the step's line, before running anything", async () => {
    const r = await build("host.Dockerfile", executor);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("STRATA_ENTITLEMENT_NETWORK_HOST");
    expect(r.stderr).toContain("host.Dockerfile:3");
    expect(r.stderr).toContain("--allow network.host");
    expect(r.stderr).not.toContain("start");
    const allowed = await build("host.Dockerfile", executor, ["--allow", "network.host"]);
    expect(allowed.stderr).not.toContain("STRATA_");
    expect(allowed.code).toBe(0);
  });

  it("refuses RUN --security=insecure without --allow security.insecure; comma lists grant both", async () => {
    const r = await build("insecure.Dockerfile", executor, ["--allow", "network.host"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("STRATA_ENTITLEMENT_SECURITY_INSECURE");
    expect(r.stderr).toContain("insecure.Dockerfile:2");
    expect(r.stderr).toContain("--allow security.insecure");
    const allowed = await build("insecure.Dockerfile", executor, ["--allow", "network.host,security.insecure"]);
    expect(allowed.stderr).not.toContain("STRATA_");
    expect(allowed.code).toBe(0);
  });
});

describe.skipIf(skip)("--allow", () => {
  it("rejects an entitlement it does not know with a coded error", async () => {
    const r = await build("host.Dockerfile", "runc", ["--allow", "network.host,device"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("STRATA_ENTITLEMENT_UNKNOWN");
    expect(r.stderr).toContain('"device"');
  });
});

describe.skipIf(skip)("--engine docker", () => {
  const docker = (extra: string[]) => strataAsync(["build", "host.Dockerfile", "--engine", "docker", "--progress", "plain", ...extra], { cwd: dir, env: { STRATA_HOME: home } });

  it("checks entitlements itself before docker builds anything", async () => {
    const r = await docker([]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("STRATA_ENTITLEMENT_NETWORK_HOST");
    expect(r.stderr).toContain("host.Dockerfile:3");
  });

  it("passes --allow to buildx, and refuses it with a docker that has no buildx", async () => {
    if (missing({ dockerd: dockerAvailable() })) return;
    const hasBuildx = spawnSync("/usr/bin/docker", ["buildx", "version"], { stdio: "ignore" }).status === 0;
    const r = await docker(["--allow", "network.host"]);
    if (hasBuildx) expect(r.stderr).not.toContain("STRATA_ENTITLEMENT");
    else {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("STRATA_ENTITLEMENT_NEEDS_BUILDX");
    }
  });
});
