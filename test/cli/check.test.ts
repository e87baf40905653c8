import { describe, expect, test } from "vitest";
import { scratchProject, strata } from "../helpers/cli.ts";

describe("strata check", () => {
  test("every example type-checks", () => {
    const r = strata(["check", "examples/hello/hello.image.ts", "examples/node-service/service.image.ts", "examples/go-static/app.image.ts"]);
    expect(r.stderr).toContain("Checked 3 files: no errors.");
    expect(r.code).toBe(0);
  });

  test("a type error: exit 1, file:line:col, the line and a caret", () => {
    const dir = scratchProject({
      "bad.image.ts": 'import { from } from "@strata/core";\n\nexport default from("node:22")\n  .expose("http")\n  .cmd("node server.js");\n',
    });
    const r = strata(["check", "bad.image.ts"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[TS2345]");
    expect(r.stderr).toContain("--> bad.image.ts:4:11");
    expect(r.stderr).toMatch(/4 \| {3}\.expose\("http"\)\n\s+\|\s+\^+/);
    expect(r.stderr).toContain("--> bad.image.ts:5:8");
    expect(r.stderr).toContain("Found 2 errors in 1 file.");
  });

  test("misusing a shared image package is caught in the consumer, before any build", () => {
    const dir = scratchProject({
      "svc.image.ts": 'import { from } from "@strata/core";\nimport { nodeRuntime } from "@strata/images";\n\nexport default from("node:22").with(nodeRuntime({ port: "3000" }));\n',
    });
    const r = strata(["check", "svc.image.ts"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--> svc.image.ts:4:51");
    expect(r.stderr).toMatch(/Type 'string' is not assignable to type 'number'/);
  });
});
