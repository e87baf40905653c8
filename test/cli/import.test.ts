import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { scratchProject, strata, writeFiles } from "../helpers/cli.ts";

const digestOf = (stdout: string) => (JSON.parse(stdout) as { digest: string }).digest;

const DOCKERFILE = `# syntax=docker/dockerfile:1
# Go service: built in one stage, shipped alone.
ARG GO_VERSION=1.23

FROM --platform=$BUILDPLATFORM golang:\${GO_VERSION} AS build-env
ARG TARGETARCH
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build \\
    CGO_ENABLED=0 GOARCH=$TARGETARCH \\
    go build -o /out/app ./cmd/app

FROM build-env AS test
RUN go test ./...

# the runtime image
FROM scratch
COPY --from=build-env /out/app /app
USER 65532:65532
ENTRYPOINT ["/app"]
`;

describe("strata import", () => {
  test("writes a module that type-checks and gives every stage the Dockerfile's digest", () => {
    const dir = scratchProject({ "Dockerfile": DOCKERFILE, ".dockerignore": "node_modules\n*.log\n" });
    const r = strata(["import", "Dockerfile", "-o", "app.image.ts"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("strata import: wrote app.image.ts (3 stages, graph digests verified)\n");
    const source = readFileSync(join(dir, "app.image.ts"), "utf8");
    expect(source).toContain('const GO_VERSION = arg("GO_VERSION", "1.23");');
    expect(source).toContain("const src = context(\".\", { exclude: [\"node_modules\", \"*.log\"] });");
    expect(source).toContain('.copy(buildEnv.path("/out/app"), "/app")');
    expect(source).toContain('export { buildEnv as "build-env" };');
    expect(source).toContain("// the runtime image\nexport default scratch()");
    // (1) strata check
    const check = strata(["check", "app.image.ts"], { cwd: dir });
    expect(check.stderr).toBe("Checked 1 file: no errors.\n");
    expect(check.code).toBe(0);
    // (2) the same graphs, by target
    for (const target of [[], ["--target", "build-env"], ["--target", "test"]]) {
      const fromDockerfile = strata(["graph", "Dockerfile", ...target], { cwd: dir });
      const fromModule = strata(["graph", "app.image.ts", ...target], { cwd: dir });
      expect(fromModule.code, fromModule.stderr).toBe(0);
      expect(digestOf(fromModule.stdout)).toBe(digestOf(fromDockerfile.stdout));
    }
    // (3) exported back to a Dockerfile, it imports to the same digest
    const exported = strata(["dockerfile", "app.image.ts", "-o", "out/Dockerfile"], { cwd: dir });
    expect(exported.code, exported.stderr).toBe(0);
    expect(readFileSync(join(dir, "out/Dockerfile"), "utf8")).toContain("COPY --from=build-env /out/app /app");
    const again = strata(["graph", "out/Dockerfile"], { cwd: dir });
    expect(digestOf(again.stdout)).toBe(digestOf(strata(["graph", "Dockerfile"], { cwd: dir }).stdout));
  });

  test("prints to stdout, reads - from stdin, and the same input gives the same bytes", () => {
    const dir = scratchProject({ "Dockerfile": DOCKERFILE });
    const a = strata(["import", "Dockerfile"], { cwd: dir });
    expect(a.code).toBe(0);
    expect(a.stderr).toBe("");
    expect(a.stdout).toMatch(/^import \{ arg, BUILDPLATFORM, cache, from, scratch, TARGETARCH \} from "@strata\/core";\n/);
    const b = strata(["import", "-"], { cwd: dir, input: DOCKERFILE });
    expect(b.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
  });

  test("--target picks the default export; the other stages stay named exports", () => {
    const dir = scratchProject({ "Dockerfile": DOCKERFILE });
    const r = strata(["import", "Dockerfile", "--target", "TEST", "-o", "app.image.ts"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const source = readFileSync(join(dir, "app.image.ts"), "utf8");
    expect(source).toContain("export const test = from(buildEnv)");
    expect(source).toMatch(/\nexport default test;\n/);
    expect(digestOf(strata(["graph", "app.image.ts"], { cwd: dir }).stdout)).toBe(digestOf(strata(["graph", "Dockerfile", "--target", "test"], { cwd: dir }).stdout));
  });

  test("errors have codes and positions, exit 1, and write nothing", () => {
    const dir = scratchProject({ "Dockerfile": 'FROM alpine\nRUN ["a", 1]\n', "ok.Dockerfile": "FROM alpine AS one\n" });
    const bad = strata(["import", "Dockerfile", "-o", "app.image.ts"], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error\[DF_PARSE_[A-Z_]+\]/);
    expect(bad.stderr).toContain("--> Dockerfile:2:1");
    expect(existsSync(join(dir, "app.image.ts"))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes(".tmp"))).toEqual([]);

    const missing = strata(["import", "nope/Dockerfile"], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("error[STRATA_FILE_NOT_FOUND]: no such file: nope/Dockerfile");

    const target = strata(["import", "ok.Dockerfile", "--target", "two"], { cwd: dir });
    expect(target.code).toBe(1);
    expect(target.stderr).toContain('error[STRATA_UNKNOWN_TARGET]: no stage "two" in the Dockerfile');
    expect(target.stderr).toContain("hint: stages: one");

    const usage = strata(["import"], { cwd: dir });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("error[STRATA_USAGE]: missing argument: strata import FILE|- [-o OUT] [--target NAME]");
  });

  test("--help describes the command and its verification", () => {
    const r = strata(["import", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: strata import FILE|- [-o OUT] [--target NAME]");
    expect(r.stdout).toContain("STRATA_IMPORT_MISMATCH");
    expect(r.stdout).toContain("-o, --output OUT");
    expect(strata(["--help"]).stdout).toMatch(/\n {2}import {6}convert a Dockerfile into a typed \.image\.ts module/);
  });

  test("a module written elsewhere than the Dockerfile's directory says where context(\".\") points", () => {
    const dir = scratchProject({ "svc/Dockerfile": "FROM alpine\nCOPY . /app\n" });
    writeFiles(dir, { "images/.keep": "" });
    const r = strata(["import", "svc/Dockerfile", "-o", "images/svc.image.ts"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("note: context(\".\") in the module is images; the Dockerfile's context was svc");
  });
});
