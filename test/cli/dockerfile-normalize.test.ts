import { describe, expect, test } from "vitest";
import { scratchProject, strata } from "../helpers/cli.ts";

const digestOf = (stdout: string) => (JSON.parse(stdout) as { digest: string }).digest;

const DOCKERFILE = `# syntax=docker/dockerfile:1
# The Go version.
ARG GO=1.23

# build stage
FROM golang:\${GO} AS build
# workdir
WORKDIR /src
RUN echo a \\
  # inside a continuation
  && echo b

FROM build AS test
# runs the tests
RUN go test

FROM scratch AS empty-a
FROM scratch AS empty-b

# final
FROM scratch
COPY --from=build /out/app /app
# trailing
`;

describe("strata dockerfile Dockerfile: normalising the whole file", () => {
  test("every stage stays a target with its digest, every comment stays; normalising again changes nothing", () => {
    const dir = scratchProject({ Dockerfile: DOCKERFILE });
    const r = strata(["dockerfile", "Dockerfile", "-o", "n/Dockerfile"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const out = strata(["dockerfile", "Dockerfile"], { cwd: dir }).stdout;
    for (const c of DOCKERFILE.split("\n").filter((l) => l.trim().startsWith("#"))) expect(out).toContain(c.trim());
    // Comments stay before the instruction they describe.
    expect(out).toMatch(/# runs the tests\nRUN go test/);
    expect(out).toMatch(/# inside a continuation\nRUN echo a/);
    expect(out.startsWith("# syntax=docker/dockerfile:1\n")).toBe(true);
    for (const target of ["build", "test", "empty-a", "empty-b"]) {
      const a = strata(["graph", "Dockerfile", "--target", target], { cwd: dir });
      const b = strata(["graph", "n/Dockerfile", "--target", target], { cwd: dir });
      expect(b.code, `${target}: ${b.stderr}`).toBe(0);
      expect(digestOf(b.stdout)).toBe(digestOf(a.stdout));
    }
    expect(digestOf(strata(["graph", "n/Dockerfile"], { cwd: dir }).stdout)).toBe(digestOf(strata(["graph", "Dockerfile"], { cwd: dir }).stdout));
    expect(strata(["dockerfile", "n/Dockerfile"], { cwd: dir }).stdout).toBe(out);
  });

  test("with --target, only that target and what it needs", () => {
    const dir = scratchProject({ Dockerfile: DOCKERFILE });
    const r = strata(["dockerfile", "Dockerfile", "--target", "test"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain("empty-a");
    expect(r.stdout).toContain("FROM build AS test");
  });
});
