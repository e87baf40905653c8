// Wrong and oversized Dockerfile input, end to end through the CLI: each case is a coded
// error at its line (never exit 70, never silently accepted), `strata parse` reports what
// `strata build` rejects with the same code, and a failed build writes no output.
import { existsSync, mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { scratchProject, strataAsync } from "../helpers/cli.ts";

const home = () => mkdtempSync(join(tmpdir(), "strata-bounds-home-"));

async function buildAndParse(dockerfile: string, env: NodeJS.ProcessEnv = {}) {
  const dir = scratchProject({ Dockerfile: dockerfile });
  const h = home();
  const out = join(dir, "out.tar");
  const build = await strataAsync(["build", "Dockerfile", "--progress", "quiet", "-o", `type=oci,dest=${out}`], { cwd: dir, env: { STRATA_HOME: h, ...env } });
  const parse = await strataAsync(["parse", "Dockerfile"], { cwd: dir, env: { STRATA_HOME: h, ...env } });
  return { build, parse, out };
}

describe("wrong input is a coded error at its line, in build and parse alike", () => {
  test.each([
    ["EXPOSE abc", "STRATA_BAD_PORT"],
    ["EXPOSE 99999", "STRATA_BAD_PORT"],
    ["EXPOSE 70000/tcp", "STRATA_BAD_PORT"],
    ["EXPOSE 9000-8000", "STRATA_BAD_PORT"],
    ["STOPSIGNAL FOO", "STRATA_BAD_SIGNAL"],
    ['ARG "a b"=1', "DF_BAD_ARG_NAME"],
    ["COPY --from=app /x /y", "DF_STAGE_CYCLE"],
    ["FROM scratch AS app", "DF_DUPLICATE_STAGE_NAME"],
  ])("%s → %s", async (line, code) => {
    const { build, parse, out } = await buildAndParse(`FROM scratch AS app\n${line}\n`);
    for (const r of [build, parse]) {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`error[${code}]`);
      expect(r.stderr).toContain("Dockerfile:2:1");
      expect(r.stderr).not.toContain("internal error");
    }
    // Never a pull of docker.io/library/app for the cycle.
    expect(build.stderr).not.toMatch(/pulling/i);
    expect(existsSync(out)).toBe(false);
  });

  test("FROM --platform=bogus", async () => {
    const { build, parse, out } = await buildAndParse("FROM --platform=bogus scratch\n");
    for (const r of [build, parse]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("error[STRATA_BAD_PLATFORM]");
      expect(r.stderr).toContain("Dockerfile:1:1");
    }
    expect(existsSync(out)).toBe(false);
  });

  test("a port read from a build arg is checked after expansion, at its line", async () => {
    const dir = scratchProject({ Dockerfile: "FROM scratch\nARG P\nEXPOSE $P\n" });
    const r = await strataAsync(["build", "Dockerfile", "--progress", "quiet", "--build-arg", "P=99999"], { cwd: dir, env: { STRATA_HOME: home() } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_BAD_PORT]");
    expect(r.stderr).toContain("Dockerfile:3:1");
  });

  test("a required arg without a value is a coded error, not exit 70", async () => {
    const dir = scratchProject({ Dockerfile: "FROM scratch\nARG A=${B:?needsB}\nENV C=$A\n" });
    const r = await strataAsync(["build", "Dockerfile", "--progress", "quiet"], { cwd: dir, env: { STRATA_HOME: home() } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_ARG_REQUIRED]");
    expect(r.stderr).toContain("Dockerfile:2:1");
  });
});

describe("wrong values in a module", () => {
  test.each([
    ["const p: number = 99999;\nexport default scratch()\n  .expose(p);\n", "STRATA_BAD_PORT", "app.image.ts:4"],
    ['const s = "FOO" as string as "SIGTERM";\nexport default scratch()\n  .stopSignal(s);\n', "STRATA_BAD_SIGNAL", "app.image.ts:4"],
  ])("%s", async (body, code, at) => {
    const dir = scratchProject({ "app.image.ts": `import { scratch } from "@strata/core";\n${body}` });
    const out = join(dir, "out.tar");
    const r = await strataAsync(["build", "app.image.ts", "--progress", "quiet", "-o", `type=oci,dest=${out}`], { cwd: dir, env: { STRATA_HOME: home() } });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`error[${code}]`);
    expect(r.stderr).toContain(at);
    expect(existsSync(out)).toBe(false);
  });
});

describe("the word bound", () => {
  // The file: 24 doubling ARGs, 527 bytes, which ran 135 s and died of OOM.
  const bomb = (() => {
    const names = "ABCDEFGHIJKLMNOPQRSTUVWXY".split("");
    const lines = ["FROM scratch", "ARG A=xxxxxxxx"];
    for (let i = 1; i < names.length; i++) lines.push(`ARG ${names[i]}=$${names[i - 1]}$${names[i - 1]}`);
    lines.push("ENV Z=$Y$Y$Y$Y", "LABEL z=$Y", "RUN echo $Y");
    return `${lines.join("\n")}\n`;
  })();

  test("a doubling chain of ARGs fails fast during expansion, at the first ARG over the bound", async () => {
    expect(bomb.length).toBeGreaterThan(300);
    const started = Date.now();
    const { build, parse, out } = await buildAndParse(bomb);
    expect(Date.now() - started).toBeLessThan(20_000);
    for (const r of [build, parse]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("error[STRATA_WORD_TOO_LONG]");
      // 8 · 2^18 bytes = 2 MiB > 1 MiB: ARG S, line 20.
      expect(r.stderr).toContain("ARG S expands to more than 1048576 bytes");
      expect(r.stderr).toContain("Dockerfile:20:1");
      expect(r.stderr).toContain("STRATA_MAX_WORD_BYTES");
    }
    expect(existsSync(out)).toBe(false);
  });

  test("STRATA_MAX_WORD_BYTES raises the bound for parse and build alike", async () => {
    const { build, parse } = await buildAndParse("FROM scratch\nARG A=xxxxxxxx\nARG B=$A$A\nARG C=$B$B\nLABEL c=$C\n", { STRATA_MAX_WORD_BYTES: "16" });
    for (const r of [build, parse]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("ARG C expands to more than 16 bytes");
    }
    const ok = await buildAndParse("FROM scratch\nARG A=xxxxxxxx\nARG B=$A$A\nARG C=$B$B\nLABEL c=$C\n", { STRATA_MAX_WORD_BYTES: "32" });
    expect(ok.build.code, ok.build.stderr).toBe(0);
    expect(ok.parse.code).toBe(0);
  });

  test("a malformed bound is a usage error naming the variable", async () => {
    const { build } = await buildAndParse("FROM scratch\n", { STRATA_MAX_WORD_BYTES: "lots" });
    expect(build.code).not.toBe(70);
    expect(build.stderr).toContain("STRATA_MAX_WORD_BYTES");
  });
});

describe("ADD of a URL that redirects to file:", () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((_req, res) => res.writeHead(302, { location: "file:///etc/passwd" }).end());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const a = server.address();
    url = `http://127.0.0.1:${typeof a === "object" && a ? a.port : 0}/f`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
  });

  test("is refused with a coded error at the ADD line", async () => {
    const { build, out } = await buildAndParse(`FROM scratch\nADD ${url} /passwd\n`);
    expect(build.code).toBe(1);
    expect(build.stderr).toContain("error[STRATA_DOWNLOAD_BAD_REDIRECT]");
    expect(build.stderr).toContain("Dockerfile:2:1");
    expect(build.stderr).not.toContain("root:");
    expect(existsSync(out)).toBe(false);
  });
});
