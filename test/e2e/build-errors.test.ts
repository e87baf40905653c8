import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { scratchProject, strata, strataAsync, STRATA_BIN } from "../helpers/cli.ts";
import { busyboxLayout } from "../helpers/busybox.ts";
import { isRoot, missing } from "../helpers/requires.ts";

const home = () => mkdtempSync(join(tmpdir(), "strata-home-"));

function mod(body: string): string {
  return `import { from, http, ociLayout, scratch } from "@strata/core";\nexport default ${body};\n`;
}

/** Nothing half-written: no output file, no temp files beside it. */
function noPartialOutput(dir: string, name: string): void {
  expect(existsSync(join(dir, name))).toBe(false);
  expect(readdirSync(dir).filter((f) => f.includes(".tmp"))).toEqual([]);
}

describe("bad inputs fail with a code and a position, and leave nothing half-written", () => {
  test("a missing source file", () => {
    const dir = scratchProject({ "a.image.ts": mod(`scratch()\n  .copy("nope.txt", "/nope.txt")`) });
    const r = strata(["build", "a.image.ts", "-o", `type=oci,dest=${dir}/out.tar`, "--progress", "quiet"], { cwd: dir, env: { STRATA_HOME: home() } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error\[STRATA_COPY_[A-Z_]+\]: .*nope\.txt/);
    expect(r.stderr).toContain("--> a.image.ts:3:4");
    noPartialOutput(dir, "out.tar");
  });

  test("a glob with no match", () => {
    const dir = scratchProject({ "a.image.ts": mod(`scratch().copy("*.xyz", "/dst/")`), "x.txt": "x" });
    const r = strata(["build", "a.image.ts", "--progress", "quiet"], { cwd: dir, env: { STRATA_HOME: home() } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_COPY_NO_MATCH]");
    expect(r.stderr).toContain("*.xyz");
    expect(r.stderr).toContain("--> a.image.ts:2:");
  });

  test("a --chown name the image does not know", async () => {
    const dir = scratchProject({ "a.image.ts": mod(`from(ociLayout("./busybox")).copy("x.txt", "/x.txt", { chown: "nosuchuser" })`), "x.txt": "x" });
    await busyboxLayout(dir);
    const r = strata(["build", "a.image.ts", "--progress", "quiet"], { cwd: dir, env: { STRATA_HOME: home() } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_COPY_UNKNOWN_USER]");
    expect(r.stderr).toContain("nosuchuser");
    expect(r.stderr).toContain("--> a.image.ts:2:");
  });

  test.skipIf(missing({ root: isRoot }))("an unreadable file (as an unprivileged user)", () => {
    const dir = scratchProject({ "a.image.ts": mod(`scratch().copy("secret.txt", "/s")`), "secret.txt": "x" });
    chmodSync(join(dir, "secret.txt"), 0o000);
    const h = home();
    chmodSync(h, 0o777);
    spawnSync("chmod", ["-R", "a+rX", dir]);
    chmodSync(join(dir, "secret.txt"), 0o000);
    const r = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, STRATA_BIN, "build", "a.image.ts", "--progress", "quiet"], {
      cwd: dir,
      env: { ...process.env, STRATA_HOME: h, NO_COLOR: "1", HOME: h },
      encoding: "utf8",
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error\[STRATA_[A-Z_]+\]: .*secret\.txt/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test("an ADD whose download does not match its checksum", async () => {
    const server = createServer((_req, res) => res.end("the real content\n"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const sum = `sha256:${"0".repeat(64)}`;
      const dir = scratchProject({ "a.image.ts": mod(`scratch().add(http("http://127.0.0.1:${port}/f.txt", { checksum: "${sum}" }), "/f.txt")`) });
      const h = home();
      const r = await strataAsync(["build", "a.image.ts", "--progress", "quiet"], { cwd: dir, env: { STRATA_HOME: h } });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("error[STRATA_CHECKSUM_MISMATCH]");
      expect(r.stderr).toContain("--> a.image.ts:2:");
      // Nothing unverified is in the store.
      const blobs = join(h, "v1/blobs/sha256");
      const stored = existsSync(blobs) ? readdirSync(blobs).map((f) => readFileSync(join(blobs, f), "utf8")) : [];
      expect(stored).not.toContain("the real content\n");
    } finally {
      server.close();
    }
  });

  test.skipIf(missing({ root: isRoot }))("a full disk: a coded error, and the store still works afterwards", () => {
    const h = mkdtempSync(join(tmpdir(), "strata-small-"));
    expect(spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", h]).status).toBe(0);
    try {
      const big = Buffer.alloc(3 << 20, 7);
      const dir = scratchProject({ "a.image.ts": mod(`scratch().copy("big.bin", "/big.bin")`), "small.image.ts": mod(`scratch().copy("small.txt", "/s")`), "small.txt": "ok\n" });
      writeFileSync(join(dir, "big.bin"), big);
      const r = strata(["build", "a.image.ts", "--progress", "quiet"], { cwd: dir, env: { STRATA_HOME: h } });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error\[STRATA_[A-Z_]+\]: .*(no space|ENOSPC)/i);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      const ok = strata(["build", "small.image.ts", "--progress", "quiet"], { cwd: dir, env: { STRATA_HOME: h } });
      expect(ok.code).toBe(0);
    } finally {
      spawnSync("umount", [h]);
      rmSync(h, { recursive: true, force: true });
    }
  });

  test.skipIf(missing({ root: isRoot }))("a build killed mid-RUN leaves the store usable and nothing mounted", async () => {
    const dir = scratchProject({
      "slow.image.ts": mod(`from(ociLayout("./busybox")).run("echo started; sleep 30")`),
      "fast.image.ts": mod(`from(ociLayout("./busybox")).run("echo fast > /f")`),
    });
    await busyboxLayout(dir);
    const h = home();
    const child = spawn(process.execPath, [STRATA_BIN, "build", "slow.image.ts", "--progress", "plain"], { cwd: dir, env: { ...process.env, STRATA_HOME: h } });
    await new Promise<void>((resolve) => {
      let err = "";
      child.stderr.on("data", (c: Buffer) => {
        err += c.toString();
        if (err.includes("started")) resolve();
      });
    });
    child.kill("SIGKILL");
    await new Promise((r) => child.on("close", r));
    // The sandbox of a SIGKILLed build may still be winding down; a new build must not care.
    const r = strata(["build", "fast.image.ts", "--progress", "quiet"], { cwd: dir, env: { STRATA_HOME: h } });
    expect(r.stderr).toContain("steps run");
    expect(r.code).toBe(0);
    mkdirSync(join(h, "probe"));
  });
});
