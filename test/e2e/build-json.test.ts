import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { scratchProject, strata } from "../helpers/cli.ts";
import { busyboxLayout } from "../helpers/busybox.ts";
import { isRoot, missing } from "../helpers/requires.ts";

interface Line {
  v: number;
  type: string;
  [k: string]: unknown;
}

/** Every line of the stream parsed by JSON.parse: a line that is not JSON fails the test. */
function lines(stderr: string): Line[] {
  expect(stderr.endsWith("\n")).toBe(true);
  return stderr
    .slice(0, -1)
    .split("\n")
    .map((l) => {
      const parsed = JSON.parse(l) as Line;
      expect(parsed.v).toBe(1);
      expect(typeof parsed.type).toBe("string");
      return parsed;
    });
}

const MODULE = `import { from, ociLayout } from "@strata/core";

export default from(ociLayout("./busybox"))
  .run("echo hello from the step")
  .cmd(["sh"]);
`;
const FAILING = `import { from, ociLayout } from "@strata/core";

export default from(ociLayout("./busybox"))
  .run("echo about to fail; exit 3");
`;

describe("--progress json: JSON Lines only", () => {
  let dir: string;
  let home: string;
  const build = (args: readonly string[]) => strata(["build", ...args], { cwd: dir, env: { STRATA_HOME: home } });
  beforeAll(async () => {
    dir = scratchProject({ "ok.image.ts": MODULE, "fail.image.ts": FAILING, Dockerfile: "FROM base\nFROBNICATE x\n", "Dockerfile.warn": "FROM base\nCOPY Dockerfile.warn /x\nMAINTAINER me\n" });
    await busyboxLayout(dir);
    home = mkdtempSync(join(tmpdir(), "buildx-json-home-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  test.skipIf(missing({ root: isRoot }))("a build: steps with their positions, their logs, the summary last; a rebuild: cached steps with positions", () => {
    for (const mode of ["json", "rawjson"]) {
      const r = build(["ok.image.ts", "--progress", mode, "--no-cache"]);
      expect(r.code, r.stderr).toBe(0);
      const ev = lines(r.stderr);
      expect(ev[0]!.type).toBe("build-start");
      const start = ev.find((e) => e.type === "step-start" && String(e.name).startsWith("RUN echo"))!;
      expect(start.location).toMatchObject({ file: join(dir, "ok.image.ts"), line: 4 });
      expect(ev.some((e) => e.type === "step-log" && e.line === "hello from the step" && e.id === start.id)).toBe(true);
      expect(ev.some((e) => e.type === "step-done" && e.id === start.id)).toBe(true);
      expect(ev.some((e) => e.type === "build-done")).toBe(true);
      const summary = ev[ev.length - 1]!;
      expect(summary.type).toBe("summary");
      expect(summary.imageId).toBe(r.stdout.trim());
      expect(summary).toMatchObject({ built: 2, cached: 0 });
    }
    const again = lines(build(["ok.image.ts", "--progress", "json"]).stderr);
    expect(again.find((e) => e.type === "step-cached" && String(e.name).startsWith("RUN echo"))?.location).toMatchObject({ line: 4 });
  });

  test.skipIf(missing({ root: isRoot }))("a failed step: step-error and a final error record with its code and position", () => {
    const r = build(["fail.image.ts", "--progress", "json"]);
    expect(r.code).toBe(1);
    const ev = lines(r.stderr);
    expect(ev.some((e) => e.type === "step-log" && e.line === "about to fail")).toBe(true);
    const stepError = ev.find((e) => e.type === "step-error")!;
    expect(stepError).toMatchObject({ code: "STRATA_RUN_FAILED", location: { line: 4 } });
    const last = ev[ev.length - 1]!;
    expect(last).toMatchObject({ type: "error", code: "STRATA_RUN_FAILED", exit: 1 });
    expect((last.locations as { file: string; line: number }[])[0]).toMatchObject({ file: join(dir, "fail.image.ts"), line: 4 });
  });

  test("errors before any step: a bad Dockerfile, bad usage; warnings are message records", () => {
    const bad = build(["Dockerfile", "--progress", "json"]);
    expect(bad.code).toBe(1);
    const [err] = lines(bad.stderr);
    expect(err).toMatchObject({ type: "error", exit: 1 });
    expect(err!.code).toBe("DF_PARSE_UNKNOWN_INSTRUCTION");
    expect((err!.locations as { line: number }[])[0]?.line).toBe(2);

    const usage = build(["Dockerfile", "--progress=rawjson", "--shm-size", "1g"]);
    expect(usage.code).toBe(2);
    expect(lines(usage.stderr)).toEqual([expect.objectContaining({ type: "error", code: "STRATA_USAGE", exit: 2 })]);

    const warn = build(["-f", "Dockerfile.warn", "--build-context", "base=oci-layout://./busybox", "--progress", "json"]);
    expect(warn.code, warn.stderr).toBe(0);
    const ev = lines(warn.stderr);
    expect(ev[ev.length - 1]!.type).toBe("summary");
    expect(ev[0]).toMatchObject({ type: "message" });
    expect(String(ev[0]!.text)).toContain("warning[DF_LINT_MAINTAINER_DEPRECATED]");
  });
});
