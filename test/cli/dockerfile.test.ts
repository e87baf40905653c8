import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { scratchProject, strata, writeFiles } from "../helpers/cli.ts";

const digestOf = (stdout: string) => (JSON.parse(stdout) as { digest: string }).digest;

const DOCKERFILE = `# syntax=docker/dockerfile:1
ARG GO=1.23
FROM golang:\${GO} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN <<EOF
set -e
go build -o /out/app ./cmd/app
EOF

FROM scratch
COPY --from=build /out/app /app
USER 65532:65532
ENTRYPOINT ["/app"]
`;

describe("Dockerfiles on the command line", () => {
  test("strata graph reads a Dockerfile like an image module; --target picks a stage (any case)", () => {
    const dir = scratchProject({ "Dockerfile": DOCKERFILE });
    const a = strata(["graph", "Dockerfile"], { cwd: dir });
    expect(a.code).toBe(0);
    expect(digestOf(a.stdout)).toMatch(/^sha256:/);
    const b = strata(["graph", "Dockerfile", "--target", "BUILD"], { cwd: dir });
    expect(digestOf(b.stdout)).not.toBe(digestOf(a.stdout));
    const steps = (JSON.parse(a.stdout) as { steps: Array<{ instruction: string; location?: unknown }> }).steps;
    expect(steps.filter((s) => s.instruction === "COPY").at(-1)?.location).toMatchObject({ file: "Dockerfile", line: 14 });
  });

  test("strata dockerfile exports a module, and the export imports back to the same digest", () => {
    const dir = scratchProject();
    writeFiles(dir, { "app.image.ts": readFileSync(join(import.meta.dirname, "../../examples/go-static/app.image.ts"), "utf8") });
    const out = strata(["dockerfile", "app.image.ts", "-o", "out/Dockerfile"], { cwd: dir });
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    const text = readFileSync(join(dir, "out/Dockerfile"), "utf8");
    expect(text).toContain("FROM golang:1.23 AS build");
    expect(text).toContain("COPY --from=build /out/app /app");
    const fromModule = digestOf(strata(["graph", "app.image.ts"], { cwd: dir }).stdout);
    const fromDockerfile = digestOf(strata(["graph", "out/Dockerfile"], { cwd: dir }).stdout);
    expect(fromDockerfile).toBe(fromModule);
  });

  test("normalising a Dockerfile is idempotent and keeps the digest", () => {
    const dir = scratchProject({ "Dockerfile": DOCKERFILE });
    const once = strata(["dockerfile", "Dockerfile", "-o", "n1/Dockerfile"], { cwd: dir });
    expect(once.code).toBe(0);
    const twice = strata(["dockerfile", "n1/Dockerfile"], { cwd: dir });
    expect(twice.stdout).toBe(readFileSync(join(dir, "n1/Dockerfile"), "utf8"));
    expect(digestOf(strata(["graph", "n1/Dockerfile"], { cwd: dir }).stdout)).toBe(digestOf(strata(["graph", "Dockerfile"], { cwd: dir }).stdout));
  });

  test("what a Dockerfile cannot say is refused with the call site", () => {
    const dir = scratchProject({ "x.image.ts": 'import { from } from "@strata/core";\nexport default from("debian:12")\n  .withoutEnv("DEBIAN_FRONTEND");\n' });
    const r = strata(["dockerfile", "x.image.ts"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_EXPORT_UNSUPPORTED]: withoutEnv() cannot be written as a Dockerfile");
    expect(r.stderr).toContain("--> x.image.ts:3:4");
    expect(r.stdout).toBe("");
  });

  test("strata parse: diagnostics with positions, BuildKit's dump, JSON", () => {
    const dir = scratchProject({ "Dockerfile": DOCKERFILE, "bad.Dockerfile": 'FROM alpine\nRUN ["a", 1]\nCOPY\n' });
    const dump = strata(["parse", "Dockerfile", "--dump"], { cwd: dir });
    expect(dump.stdout.split("\n")[0]).toBe('(arg "GO=1.23")');
    expect(dump.stdout).toContain('(copy ["--from=build"] "/out/app" "/app")');
    const json = JSON.parse(strata(["parse", "Dockerfile", "--json"], { cwd: dir }).stdout) as { stages: unknown[] };
    expect(json.stages).toHaveLength(2);
    const bad = strata(["parse", "bad.Dockerfile"], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/error\[DF_PARSE_[A-Z_]+\]/);
    expect(bad.stderr).toContain("--> bad.Dockerfile:2:1");
    const g = strata(["graph", "bad.Dockerfile"], { cwd: dir });
    expect(g.code).toBe(1);
    expect(g.stderr).not.toMatch(/\n\s+at /);
  });
});
