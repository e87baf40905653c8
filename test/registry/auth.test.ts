import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startRegistry, type TestRegistry } from "@strata/registry/test-helpers";
import { appModule, DIGEST, dockerConfigWith, newHome, project, run, runWithInput } from "./helpers.ts";

describe("registries with authentication", () => {
  let basic: TestRegistry;
  let token: TestRegistry;
  let dir: string;

  beforeAll(async () => {
    [basic, token] = await Promise.all([startRegistry({ auth: "htpasswd" }), startRegistry({ auth: "token", anonymousPull: false })]);
    dir = await project(appModule('ociLayout("./busybox")', "authenticated"));
  });
  afterAll(async () => {
    await Promise.all([basic?.stop(), token?.stop()]);
  });

  test("htpasswd: push and pull with credentials from DOCKER_CONFIG; without them a coded 401 with a hint", async () => {
    const home = newHome();
    const ref = `${basic.host}/auth/app:1`;
    const anonymous = await run(dir, home, ["build", "app.image.ts", "-t", ref, "--push", "--progress", "quiet"], { DOCKER_CONFIG: mkdtempSync(join(tmpdir(), "strata-empty-config-")) });
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain("error[STRATA_REGISTRY_UNAUTHORIZED]");
    expect(anonymous.stderr).toContain(`strata login ${basic.host}`);

    const config = dockerConfigWith(basic.host, "strata", basic.users.strata!);
    const pushed = await run(dir, home, ["build", "app.image.ts", "-t", ref, "--push", "--progress", "quiet"], { DOCKER_CONFIG: config });
    expect(pushed.code).toBe(0);
    const digest = /@(sha256:[0-9a-f]{64})/.exec(pushed.stderr)![1]!;

    // Pulled into another store, and used as a base there.
    const other = newHome();
    const pulled = await run(dir, other, ["pull", ref], { DOCKER_CONFIG: config });
    expect(pulled.code).toBe(0);
    expect(pulled.stdout).toBe(`${digest}\n`);
    const child = await project({ "child.image.ts": `import { from } from "@strata/core";\nexport default from("${ref}").cmd(["cat", "/msg.txt"]);\n` });
    const built = await run(child, other, ["build", "child.image.ts", "--progress", "quiet"], { DOCKER_CONFIG: config });
    expect(built.code).toBe(0);
    expect(built.stdout).toMatch(DIGEST);
  });

  test("token auth: strata login verifies and stores the credentials docker's way; builds push and pull with them", async () => {
    const home = newHome();
    const config = mkdtempSync(join(tmpdir(), "strata-docker-config-"));
    const bad = await runWithInput(dir, home, ["login", token.host, "-u", "strata", "--password-stdin"], "wrong\n", { DOCKER_CONFIG: config });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("error[STRATA_REGISTRY_LOGIN_FAILED]");
    expect(existsSync(join(config, "config.json"))).toBe(false);

    const ok = await runWithInput(dir, home, ["login", token.host, "-u", "strata", "--password-stdin"], `${token.users.strata}\n`, { DOCKER_CONFIG: config });
    expect(ok.stdout).toBe("Login Succeeded\n");
    expect(ok.code).toBe(0);
    const saved = JSON.parse(readFileSync(join(config, "config.json"), "utf8")) as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(saved.auths[token.host]!.auth, "base64").toString()).toBe(`strata:${token.users.strata}`);

    const ref = `${token.host}/auth/app:1`;
    const pushed = await run(dir, home, ["build", "app.image.ts", "-t", ref, "--push", "--progress", "quiet"], { DOCKER_CONFIG: config });
    expect(pushed.code).toBe(0);
    // Anonymous pulls are refused by this registry: the base image needs the stored login too.
    const child = await project({ "child.image.ts": `import { from } from "@strata/core";\nexport default from("${ref}").cmd(["cat", "/msg.txt"]);\n` });
    const denied = await run(child, newHome(), ["build", "child.image.ts", "--progress", "quiet"], { DOCKER_CONFIG: mkdtempSync(join(tmpdir(), "strata-empty-config-")) });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/error\[STRATA_REGISTRY_(UNAUTHORIZED|DENIED)\]/);
    expect(denied.stderr).toMatch(/child\.image\.ts:2/);
    const built = await run(child, newHome(), ["build", "child.image.ts", "--progress", "quiet"], { DOCKER_CONFIG: config });
    expect(built.code).toBe(0);
    expect(token.tokenIssuer!.log.some((l) => l.user === "strata" && l.scopes.some((s) => s.includes("auth/app:pull")))).toBe(true);
  });
});
