import { appendFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { scratchProject, strata } from "../helpers/cli.ts";
import { busyboxLayout } from "../helpers/busybox.ts";
import { isRoot, missing } from "../helpers/requires.ts";


const module = (cmd: string) => `import { arg, context, from, ociLayout } from "@strata/core";
const VERSION = arg("VERSION", "1");
export default from(ociLayout("./busybox"))
  .arg(VERSION)
  .copy(context("src"), "/app")
  .run(${JSON.stringify(cmd)})
  .run("echo $VERSION > /version");
`;

describe.skipIf(missing({ root: isRoot }))("--explain says why each step is rebuilt", () => {
  test("a changed file, a changed build arg, a changed command, an earlier step", async () => {
    const dir = scratchProject({ "app.image.ts": module("ls /app > /listing"), "src/a.txt": "a\n", "src/b.txt": "b\n" });
    await busyboxLayout(dir);
    const env = { STRATA_HOME: mkdtempSync(join(tmpdir(), "strata-home-")) };
    const build = (...extra: string[]) => strata(["build", "app.image.ts", "--explain", "--progress", "plain", ...extra], { cwd: dir, env });
    const first = build();
    expect(first.code).toBe(0);
    expect(first.stderr).toContain("rebuilding: no earlier build of this target to compare with");

    appendFileSync(join(dir, "src/b.txt"), "more\n");
    const edited = build();
    expect(edited.stderr).toMatch(/COPY src \/app.*\n.*rebuilding: file changed: src\/b\.txt\n/);
    expect(edited.stderr).toContain("rebuilding: its input root filesystem changed (an earlier step was rebuilt)");

    writeFileSync(join(dir, "src/c.txt"), "c\n");
    expect(build().stderr).toContain("rebuilding: file added: src/c.txt");

    const arg = build("--build-arg", "VERSION=2");
    expect(arg.stderr).toContain("VERSION=1 → VERSION=2");
    expect(arg.stderr).toMatch(/#\d+ COPY src \/app CACHED/);

    writeFileSync(join(dir, "app.image.ts"), module("ls -la /app > /listing"));
    const cmd = build("--build-arg", "VERSION=2");
    expect(cmd.stderr).toContain('its command changed: {"form":"shell","script":"ls /app > /listing"} → {"form":"shell","script":"ls -la /app > /listing"}');
    expect(cmd.stderr).toContain("an earlier step it builds on changed");

    expect(build("--build-arg", "VERSION=2").stderr).not.toContain("rebuilding:");
    expect(build("--build-arg", "VERSION=2", "--no-cache").stderr).toContain("rebuilding: --no-cache was given");
  });
});
