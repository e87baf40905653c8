import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { scratchProject, strata } from "../helpers/cli.ts";
import { busyboxLayout } from "../helpers/busybox.ts";
import { isRoot, missing } from "../helpers/requires.ts";

const DOCKERFILE = `FROM base AS deps
RUN echo deps > /deps

FROM deps AS app
COPY --from=extra hello.txt /hello.txt
COPY ctx.txt /ctx.txt
RUN cat /deps /hello.txt /ctx.txt > /all

FROM deps AS tools
RUN echo tools > /tools
`;

describe("flags docker users type", () => {
  let dir: string;
  let home: string;
  const build = (args: readonly string[]) => strata(["build", ...args], { cwd: dir, env: { STRATA_HOME: home } });
  beforeAll(async () => {
    dir = scratchProject({ "docker/odd.name": DOCKERFILE, "ctx/ctx.txt": "from the context\n", "extra/hello.txt": "from a named context\n" });
    await busyboxLayout(dir);
    home = mkdtempSync(join(tmpdir(), "buildx-flags-home-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });
  const common = ["--build-context", "base=oci-layout://./busybox", "--build-context", "extra=extra", "--progress", "plain"];

  test.skipIf(missing({ root: isRoot }))("-f with any file name, the context as the argument, named contexts (a directory and an image)", () => {
    const r = build(["-f", "docker/odd.name", "ctx", "--target", "app", ...common, "-o", "type=local,dest=out"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    const all = strata(["build", "-f", "docker/odd.name", "ctx", "--target", "app", ...common, "-o", "-"], { cwd: dir, env: { STRATA_HOME: home } });
    expect(all.code).toBe(0);
    expect(readFileSync(join(dir, "out", "all"), "utf8")).toBe("deps\nfrom a named context\nfrom the context\n");
  });

  test.skipIf(missing({ root: isRoot }))("--target a,b builds both in one run; the steps they share run once", () => {
    const fresh = mkdtempSync(join(tmpdir(), "buildx-flags-home-"));
    try {
      const r = strata(["build", "-f", "docker/odd.name", "ctx", "--target", "app,tools", ...common], { cwd: dir, env: { STRATA_HOME: fresh } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64}\nsha256:[0-9a-f]{64}\n$/);
      expect(r.stderr.match(/RUN echo deps > \/deps\s/g)?.length).toBe(2); // started once, cached once
      expect(r.stderr).toMatch(/RUN echo deps > \/deps CACHED/);
      expect(r.stderr).toContain("built target app:");
      expect(r.stderr).toContain("built target tools:");
      const again = strata(["build", "-f", "docker/odd.name", "ctx", "--target", "app", "--target", "tools", ...common], { cwd: dir, env: { STRATA_HOME: fresh } });
      expect(again.stdout).toBe(r.stdout);
      // Several targets are built, not named: -t needs one.
      expect(strata(["build", "-f", "docker/odd.name", "ctx", "--target", "app,tools", "-t", "x", ...common], { cwd: dir, env: { STRATA_HOME: fresh } }).code).toBe(2);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  test.skipIf(missing({ root: isRoot }))("--no-cache-filter STAGE runs that stage's steps again, and only those", () => {
    expect(build(["-f", "docker/odd.name", "ctx", "--target", "app", ...common]).code).toBe(0);
    const r = build(["-f", "docker/odd.name", "ctx", "--target", "app", "--no-cache-filter", "app", ...common]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/RUN echo deps > \/deps CACHED/);
    expect(r.stderr).not.toMatch(/RUN cat \/deps \/hello.txt \/ctx.txt > \/all CACHED/);
    expect(r.stderr).toMatch(/#\d+ RUN cat \/deps \/hello.txt \/ctx.txt > \/all/);
    expect(build(["-f", "docker/odd.name", "ctx", "--no-cache-filter", "nope", ...common]).stderr).toContain("no such target or stage");
  });

  test("a directory argument is docker's context PATH, with its Dockerfile", () => {
    mkdirSync(join(dir, "plain"), { recursive: true });
    writeFileSync(join(dir, "plain", "Dockerfile"), "FROM base\nCOPY f /f\n");
    writeFileSync(join(dir, "plain", "f"), "f\n");
    const r = build(["plain", "--build-context", "base=oci-layout://./busybox", "-o", "type=local,dest=plain-out"]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "plain-out", "f"), "utf8")).toBe("f\n");
  });

  test("several platforms, docker flags Strata lacks and typos are coded usage errors", () => {
    for (const args of [["--platform", "linux/amd64,linux/arm64"], ["--platform", "linux/amd64", "--platform", "linux/arm64"]]) {
      const r = build(["plain", ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("several platforms are not supported yet (issue 14)");
    }
    const squash = build(["plain", "--shm-size", "1g"]);
    expect(squash.code).toBe(2);
    expect(squash.stderr).toContain("STRATA_USAGE");
    expect(squash.stderr).toContain("--shm-size is a docker build flag that Strata does not support");
    const typo = build(["plain", "--tagg", "x"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("did you mean --tag?");
    expect(build(["plain", "--pull", "--locked"]).stderr).toContain("--locked forbids it");
    expect(build(["plain", "--label", "novalue"]).code).toBe(2);
    expect(build(["plain", "--build-context", "x=git://example.com/r"]).stderr).toContain("not supported");
  });
});
