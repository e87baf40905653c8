import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { scratchProject, strata } from "../helpers/cli.ts";
import { busyboxLayout } from "../helpers/busybox.ts";
import { docker, dockerAvailable, dockerRun } from "../helpers/docker.ts";
import { isRoot, missing } from "../helpers/requires.ts";


/** A project with the busybox base as an OCI layout next to the image module. */
async function project(files: Record<string, string>): Promise<string> {
  const dir = scratchProject(files);
  await busyboxLayout(dir);
  return dir;
}

const MULTI = `import { bind, cache, from, ociLayout, secret } from "@strata/core";

const base = from(ociLayout("./busybox"));

// A build stage: files created, modified, deleted; a symlink; modes; a secret; a cache.
export const build = from(base)
  .workdir("/src")
  .run("echo one > a && echo two > b && mkdir -p d/e && echo deep > d/e/f && ln -s a link && chmod 750 d")
  .run("echo changed >> a && rm b && rm -r d/e && chmod 4755 /bin/busybox", { mounts: [cache("/cache", { id: "e2e" })] })
  .run("test -s /run/secrets/tok && wc -c < /run/secrets/tok > /src/secret-size", { mounts: [secret("tok", { required: true })] });

export default from(base)
  .copy(build.path("/src"), "/app")
  .user("app")
  .run("id -u > /home/app/uid && cat /app/a")
  .workdir("/app")
  .cmd(["cat", "/app/a"]);
`;

describe.skipIf(missing({ root: isRoot }))("RUN steps in the native engine", () => {
  let dir: string;
  let home: string;
  beforeAll(async () => {
    dir = await project({ "app.image.ts": MULTI });
    home = mkdtempSync(join(tmpdir(), "strata-home-"));
    writeFileSync(join(dir, "token"), "sup3r-s3cret-value");
  });

  test("a multi-stage build with RUN steps loads into docker and behaves", () => {
    const r = strata(["build", "app.image.ts", "-t", "strata-e2e/run:1", "--secret", "id=tok,src=token", "--progress", "plain", ...(dockerAvailable() ? ["--load"] : [])], { cwd: dir, env: { STRATA_HOME: home } });
    expect(r.stderr).toContain("steps run");
    expect(r.code).toBe(0);
    // The native build above needs no daemon; running the image does (under CI, dockerd is required).
    if (missing({ dockerd: dockerAvailable() })) return;
    expect(dockerRun("strata-e2e/run:1").stdout).toBe("one\nchanged\n");
    const ls = dockerRun("strata-e2e/run:1", ["sh", "-c", "ls -la /app; cat /app/secret-size; cat /home/app/uid; stat -c '%a %U' /app/d; readlink /app/link; ls /app/d"]);
    expect(ls.stdout).toContain("secret-size");
    expect(ls.stdout).not.toMatch(/ b\n/);
    expect(ls.stdout).toMatch(/\n18\n1000\n750 root\na\n$/);
    // The secret is in no layer and not in the history.
    const saved = mkdtempSync(join(tmpdir(), "strata-save-"));
    docker(["save", "-o", join(saved, "img.tar"), "strata-e2e/run:1"]);
    expect(readFileSync(join(saved, "img.tar")).includes("sup3r-s3cret-value")).toBe(false);
    expect(docker(["history", "--no-trunc", "strata-e2e/run:1"])).not.toContain("sup3r");
  });

  test("the step's output never shows the secret, and the cache key does not depend on it", () => {
    const a = strata(["build", "app.image.ts", "--target", "build", "--secret", "id=tok,src=token", "--progress", "plain"], { cwd: dir, env: { STRATA_HOME: home } });
    writeFileSync(join(dir, "token2"), "another-secret-same-len");
    const b = strata(["build", "app.image.ts", "--target", "build", "--secret", "id=tok,src=token2", "--progress", "plain"], { cwd: dir, env: { STRATA_HOME: home } });
    expect(b.stdout).toBe(a.stdout);
    expect(b.stderr).toContain("0 steps run");
  });

  test("a required secret that is missing fails before the step runs, with its position", () => {
    const r = strata(["build", "app.image.ts", "--target", "build", "--no-cache", "--progress", "quiet"], { cwd: dir, env: { STRATA_HOME: home } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_SECRET_MISSING]");
    expect(r.stderr).toContain("--> app.image.ts:");
  });

  test("--no-cache twice gives the same digest (deterministic commands, reproducible layers)", () => {
    const one = strata(["build", "app.image.ts", "--no-cache", "--secret", "id=tok,src=token", "--progress", "quiet"], { cwd: dir, env: { STRATA_HOME: home } });
    const two = strata(["build", "app.image.ts", "--no-cache", "--secret", "id=tok,src=token", "--progress", "quiet"], { cwd: dir, env: { STRATA_HOME: mkdtempSync(join(tmpdir(), "strata-home-")) } });
    expect(one.code).toBe(0);
    expect(two.stdout).toBe(one.stdout);
  });

  test("a cache mount persists across builds and is never in a layer", async () => {
    const d = await project({
      "c.image.ts": `import { cache, from, ociLayout } from "@strata/core";\nimport { arg } from "@strata/core";\nconst N = arg("N", "1");\nexport default from(ociLayout("./busybox")).arg(N).run("echo run-$N >> /cache/log && cat /cache/log > /seen", { mounts: [cache("/cache")] });\n`,
    });
    const h = mkdtempSync(join(tmpdir(), "strata-home-"));
    strata(["build", "c.image.ts", "--build-arg", "N=1", "-o", `type=oci-layout,dest=${d}/out1`, "--progress", "quiet"], { cwd: d, env: { STRATA_HOME: h } });
    const r = strata(["build", "c.image.ts", "--build-arg", "N=2", "-t", "strata-e2e/cache:1", "--progress", "quiet", ...(dockerAvailable() ? ["--load"] : [])], { cwd: d, env: { STRATA_HOME: h } });
    expect(r.code).toBe(0);
    if (dockerAvailable()) {
      expect(dockerRun("strata-e2e/cache:1", ["cat", "/seen"]).stdout).toBe("run-1\nrun-2\n");
      expect(dockerRun("strata-e2e/cache:1", ["ls", "/cache"]).stdout).toBe("");
    }
  });

  test("a failing RUN reports its position, command, status and output, and leaves nothing mounted", async () => {
    const d = await project({ "f.image.ts": `import { from, ociLayout } from "@strata/core";\nexport default from(ociLayout("./busybox"))\n  .run("echo about to fail; echo oops >&2; exit 3");\n` });
    const h = mkdtempSync(join(tmpdir(), "strata-home-"));
    const r = strata(["build", "f.image.ts", "--progress", "plain"], { cwd: d, env: { STRATA_HOME: h } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_RUN_FAILED]: RUN echo about to fail; echo oops >&2; exit 3 exited with status 3");
    expect(r.stderr).toContain("--> f.image.ts:3:4");
    expect(r.stderr).toContain("oops");
    expect(r.stderr).toMatch(/full log: .*\.log/);
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(h);
  });

  test("independent stages run at the same time (progress timings overlap)", async () => {
    const d = await project({
      "p.image.ts": `import { from, ociLayout } from "@strata/core";\nconst base = from(ociLayout("./busybox"));\nconst a = base.run("sleep 1; echo a > /a");\nconst b = base.run("sleep 1; echo b > /b");\nexport default base.copy(a.path("/a"), "/a").copy(b.path("/b"), "/b");\n`,
    });
    const r = strata(["build", "p.image.ts", "--progress", "json", "--parallelism", "2"], { cwd: d, env: { STRATA_HOME: mkdtempSync(join(tmpdir(), "strata-home-")) } });
    expect(r.code).toBe(0);
    const events = r.stderr.trim().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { type: string; name?: string; at: number; ms?: number });
    const runs = events.filter((e) => e.type === "step-done" && e.name?.startsWith("RUN sleep"));
    expect(runs).toHaveLength(2);
    const spans = runs.map((e) => [e.at - e.ms!, e.at] as const);
    // The two one-second steps overlap: each starts before the other ends.
    expect(spans[0]![0]).toBeLessThan(spans[1]![1]);
    expect(spans[1]![0]).toBeLessThan(spans[0]![1]);
  });
});

describe.skipIf(missing({ root: isRoot }))("strata run and strata cache", () => {
  test("run an image from the store, replace its command, pass the exit status; prune keeps named images", async () => {
    const dir = await project({ "r.image.ts": `import { from, ociLayout } from "@strata/core";\nexport default from(ociLayout("./busybox")).run("echo built > /msg").env("GREETING", "hi").cmd(["cat", "/msg"]);\n` });
    const env = { STRATA_HOME: mkdtempSync(join(tmpdir(), "strata-home-")) };
    expect(strata(["build", "r.image.ts", "-t", "runme", "--progress", "quiet"], { cwd: dir, env }).code).toBe(0);
    const r = strata(["run", "runme"], { cwd: dir, env });
    expect(r.stdout).toBe("built\n");
    expect(r.code).toBe(0);
    const custom = strata(["run", "runme:latest", "-e", "EXTRA=1", "--", "sh", "-c", 'echo "$GREETING $EXTRA"; exit 42'], { cwd: dir, env });
    expect(custom.stdout).toBe("hi 1\n");
    expect(custom.code).toBe(42);
    expect(strata(["run", "r.image.ts"], { cwd: dir, env }).stdout).toBe("built\n");
    const du = strata(["cache", "du"], { cwd: dir, env });
    expect(du.stdout).toMatch(/cache\s+[\d.]+ (B|KiB)/);
    expect(strata(["cache", "prune"], { cwd: dir, env }).stdout).toMatch(/^freed /);
    expect(strata(["cache", "du"], { cwd: dir, env }).stdout).not.toMatch(/\n {2}cache /);
    expect(strata(["run", "runme"], { cwd: dir, env }).stdout).toBe("built\n");
    expect(strata(["run", "nosuch"], { cwd: dir, env }).stderr).toContain("error[STRATA_IMAGE_NOT_FOUND]");
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(env.STRATA_HOME);
  });
});

describe.skipIf(missing({ root: isRoot }))("ONBUILD", () => {
  test("a base image's triggers run right after FROM and are not inherited", async () => {
    const dir = await project({
      "ob.image.ts": `import { from, ociLayout } from "@strata/core";\nexport const parent = from(ociLayout("./busybox")).onbuild("COPY marker.txt /from-trigger.txt").onbuild("ENV FROM_TRIGGER=yes");\nexport default from(ociLayout("./child")).run("cat /from-trigger.txt && echo $FROM_TRIGGER > /seen");\n`,
      "marker.txt": "copied by the trigger\n",
    });
    const env = { STRATA_HOME: mkdtempSync(join(tmpdir(), "strata-home-")) };
    expect(strata(["build", "ob.image.ts", "--target", "parent", "-o", `type=oci-layout,dest=${dir}/child`, "--progress", "quiet"], { cwd: dir, env }).code).toBe(0);
    const r = strata(["build", "ob.image.ts", "-t", "child", "--progress", "plain", "-o", `type=oci-layout,dest=${dir}/out`], { cwd: dir, env });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("COPY marker.txt /from-trigger.txt  (ONBUILD triggers of the base image):2");
    expect(r.stderr).toContain("│ copied by the trigger");
    const index = JSON.parse(readFileSync(join(dir, "out/index.json"), "utf8")) as { manifests: Array<{ digest: string }> };
    const manifest = JSON.parse(readFileSync(join(dir, "out/blobs/sha256", index.manifests[0]!.digest.slice(7)), "utf8")) as { config: { digest: string } };
    const config = JSON.parse(readFileSync(join(dir, "out/blobs/sha256", manifest.config.digest.slice(7)), "utf8")) as { config: { OnBuild?: unknown; Env: string[] } };
    expect(config.config.OnBuild).toBeUndefined();
    expect(config.config.Env).toContain("FROM_TRIGGER=yes");
  });
});
