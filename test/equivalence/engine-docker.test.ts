import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { scratchProject, strata } from "../helpers/cli.ts";
import { busyboxLayout } from "../helpers/busybox.ts";
import { docker, dockerAvailable, dockerRun } from "../helpers/docker.ts";
import { missing } from "../helpers/requires.ts";

const GREETING = "Hello from Strata! This image was built without a Docker daemon.\n";
const home = () => mkdtempSync(join(tmpdir(), "strata-home-"));

interface JsonEvent {
  readonly type: string;
  readonly name?: string;
  readonly message?: string;
  readonly location?: { file: string; line: number };
}

describe.skipIf(missing({ dockerd: dockerAvailable() }))("strata build --engine docker", () => {
  let dir: string;
  beforeAll(async () => {
    dir = scratchProject({
      "ok.image.ts": `import { from, ociLayout, secret } from "@strata/core";\nexport default from(ociLayout("./busybox"))\n  .copy("a.txt", "/a.txt")\n  .run("cat /a.txt > /b.txt && echo step-output")\n  .run("(test -e /run/secrets/tok && wc -c < /run/secrets/tok || echo none) > /tok-size", { mounts: [secret("tok")] })\n  .cmd(["cat", "/b.txt"]);\n`,
      "fail.image.ts": `import { from, ociLayout } from "@strata/core";\nexport default from(ociLayout("./busybox"))\n  .run("echo before")\n  .run("echo about to fail; exit 3");\n`,
      "chmod.image.ts": `import { from, ociLayout } from "@strata/core";\nexport default from(ociLayout("./busybox"))\n  .copy("a.txt", "/a", { chmod: "u+x" });\n`,
      "link.image.ts": `import { from, ociLayout } from "@strata/core";\nexport default from(ociLayout("./busybox"))\n  .copy("a.txt", "/a", { link: true });\n`,
      "addchown.image.ts": `import { from, ociLayout } from "@strata/core";\nexport default from(ociLayout("./busybox"))\n  .add("a.txt", "/plain", { chown: "app" })\n  .add("p.tar", "/opt/", { chown: "app" });\n`,
      "suid.image.ts": `import { from, ociLayout } from "@strata/core";\nexport default from(ociLayout("./busybox"))\n  .copy("a.txt", "/a", { chmod: 0o4755 });\n`,
      "a.txt": "alpha\n",
      "big-unused.bin": "x".repeat(1 << 20),
    });
    await busyboxLayout(dir);
    execFileSync("tar", ["-C", dir, "-cf", join(dir, "p.tar"), "a.txt"]);
  });

  test("examples/hello builds, and the image runs like the native one", () => {
    const d = strata(["build", "--engine", "docker", "examples/hello/hello.image.ts", "-t", "strata-eq/hello:engine-docker", "--progress", "plain"]);
    expect(d.stderr).toContain("with docker");
    expect(d.code).toBe(0);
    expect(d.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    const n = strata(["build", "examples/hello/hello.image.ts", "-t", "strata-eq/hello:engine-native", "--load", "--progress", "quiet"], { env: { STRATA_HOME: home() } });
    expect(n.code).toBe(0);
    const a = dockerRun("strata-eq/hello:engine-docker");
    const b = dockerRun("strata-eq/hello:engine-native");
    expect(a).toEqual(b);
    expect(a.stdout).toBe(GREETING);
    expect(a.code).toBe(0);
  });

  test("progress maps BuildKit's steps to the module's lines; the context holds only what is read", () => {
    const r = strata(["build", "--engine", "docker", "ok.image.ts", "--no-cache", "--progress", "json"], { cwd: dir });
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const events = r.stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as JsonEvent);
    // FROM is BuildKit's step 1/4: CACHED when the daemon's build cache holds the loaded base,
    // DONE (a start at the from() line) when it does not; either way it is one step.
    const from = events.filter((e) => (e.type === "step-start" || e.type === "step-cached") && / FROM docker\.io\/strata-local\/busybox:oci-layout-/.test(e.name ?? ""));
    expect(from).toHaveLength(1);
    if (from[0]!.type === "step-start") expect(from[0]!.location?.line).toBe(2);
    const starts = events.filter((e) => e.type === "step-start" && e.location && !e.name?.includes(" FROM "));
    expect(starts.map((e) => [e.name?.replace(/^\[\d\/\d\] /, ""), e.location?.line])).toEqual([
      ["COPY a.txt /a.txt", 3],
      ["RUN cat /a.txt > /b.txt && echo step-output", 4],
      ["RUN --mount=type=secret,id=tok (test -e /run/secrets/tok && wc -c < /run/secrets/tok || echo none) > /tok-size", 5],
    ]);
    expect(events.some((e) => e.type === "step-log" && (e as { line?: string }).line === "step-output")).toBe(true);
    // a.txt only: not the module, not the 1 MiB file nobody copies.
    expect(events.find((e) => e.type === "info" && e.message?.startsWith("build context"))?.message).toBe("build context: 1 files, 6 B");
  });

  test("progress of a multi-stage module: a stage from a stage, a padded step number, each step at its own line", () => {
    const copies = Array.from({ length: 10 }, (_, i) => `  .copy("a.txt", "/${i + 1}")`).join("\n");
    const d = scratchProject({
      "stages.image.ts": `import { from, ociLayout, scratch } from "@strata/core";\nconst build = from(ociLayout("./busybox"))\n  .workdir("/src")\n  .run("echo one > one");\nconst more = from(build)\n  .run("echo two > two")\n  .copy("a.txt", "/src/a.txt");\nexport default scratch()\n  .copy(more.path("/src"), "/out")\n${copies};\n`,
      "a.txt": "alpha\n",
    });
    execFileSync("ln", ["-s", join(dir, "busybox"), join(d, "busybox")]);
    const r = strata(["build", "--engine", "docker", "stages.image.ts", "--no-cache", "--progress", "json", "-t", "strata-eq/quality-stages:1"], { cwd: d });
    expect(r.code).toBe(0);
    const events = r.stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as JsonEvent);
    // Every numbered step of the Dockerfile, with the module line it must report.
    const expected = new Map<string, number>([
      ["[busybox 2/3] WORKDIR /src", 3],
      ["[busybox 3/3] RUN echo one > one", 4],
      ["[busybox-2 1/2] RUN echo two > two", 6],
      ["[busybox-2 2/2] COPY a.txt /src/a.txt", 7],
      ["[stage-2  1/11] COPY --from=busybox-2 /src /out", 9],
      ...Array.from({ length: 10 }, (_, i): [string, number] => [`[stage-2 ${i + 2 < 10 ? " " : ""}${i + 2}/11] COPY a.txt /${i + 1}`, 10 + i]),
    ]);
    const seen = events.filter((e) => (e.type === "step-start" || e.type === "step-cached") && e.name && expected.has(e.name));
    expect(new Set(seen.map((e) => e.name))).toEqual(new Set(expected.keys()));
    for (const e of seen.filter((e) => e.type === "step-start")) expect([e.name, e.location?.line]).toEqual([e.name, expected.get(e.name!)]);
    // No numbered vertex goes unmapped.
    const unmapped = events.filter((e) => e.type === "step-start" && /^\[(?!internal)/.test(e.name ?? "") && !e.location);
    expect(unmapped).toEqual([]);
    docker(["rmi", "strata-eq/quality-stages:1"]);
  });

  test("a failing RUN is reported at its .image.ts line with its output", () => {
    const r = strata(["build", "--engine", "docker", "fail.image.ts", "--progress", "quiet"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_RUN_FAILED]: RUN echo about to fail; exit 3 exited with status 3 (docker build)");
    expect(r.stderr).toContain("--> fail.image.ts:4:4");
    expect(r.stderr).toContain("about to fail");
  });

  test("what docker 20.10 cannot build the same is refused before docker runs; a too-new --syntax fails at the call site", () => {
    const chmod = strata(["build", "--engine", "docker", "chmod.image.ts"], { cwd: dir });
    expect(chmod.code).toBe(1);
    expect(chmod.stderr).toContain("error[STRATA_EXPORT_UNSUPPORTED]: a symbolic --chmod (u+x) cannot be written as a Dockerfile");
    expect(chmod.stderr).toContain("--> chmod.image.ts:3:4");
    // docker 20.10 would drop the setuid bit, and unpack an ADD --chown archive with its own owners.
    const suid = strata(["build", "--engine", "docker", "suid.image.ts"], { cwd: dir });
    expect(suid.stderr).toContain("error[STRATA_EXPORT_UNSUPPORTED]: --chmod=4755 (setuid, setgid or sticky bits)");
    const add = strata(["build", "--engine", "docker", "addchown.image.ts"], { cwd: dir });
    expect(add.stderr).toContain("error[STRATA_EXPORT_UNSUPPORTED]: ADD --chown of the archive p.tar cannot be built the same by this engine");
    expect(add.stderr).toContain("--> addchown.image.ts:4:4");
    const link = strata(["build", "--engine", "docker", "link.image.ts", "--syntax", "latest", "--progress", "quiet"], { cwd: dir });
    expect(link.code).toBe(1);
    expect(link.stderr).toContain("error[STRATA_DOCKER_SYNTAX]");
    expect(link.stderr).toContain("Unknown flag: link");
    expect(link.stderr).toContain("--> link.image.ts:3:4");
  });

  test("secrets from files and env vars reach the step and no layer; outputs are OCI and docker archives of the same image", () => {
    const out = mkdtempSync(join(tmpdir(), "strata-eq-out-"));
    writeFileSync(join(out, "tok"), "from-a-file");
    const viaEnv = strata(["build", "--engine", "docker", "ok.image.ts", "--no-cache", "--secret", "id=tok,env=EQ_TOKEN", "-t", "strata-eq/ok:env", "--progress", "quiet", "-o", `type=oci,dest=${out}/ok.tar`, "-o", `type=docker,dest=${out}/ok-docker.tar`], {
      cwd: dir,
      env: { EQ_TOKEN: "twelve-chars" },
    });
    expect(viaEnv.code).toBe(0);
    expect(dockerRun("strata-eq/ok:env", ["cat", "/tok-size"]).stdout).toBe("12\n");
    const id = viaEnv.stdout.trim();
    const inspect = JSON.parse(spawnSync("skopeo", ["inspect", "--config", `oci-archive:${out}/ok.tar`], { encoding: "utf8" }).stdout) as { config: { Cmd: string[] } };
    expect(inspect.config.Cmd).toEqual(["cat", "/b.txt"]);
    // The OCI archive keeps docker's config bytes: its config digest is the daemon's image ID.
    const raw = JSON.parse(spawnSync("skopeo", ["inspect", "--raw", `oci-archive:${out}/ok.tar`], { encoding: "utf8" }).stdout) as { config: { digest: string }; layers: { mediaType: string }[] };
    expect(raw.config.digest).toBe(id);
    expect(raw.layers.every((l) => l.mediaType.endsWith("+gzip"))).toBe(true);
    expect(docker(["load", "-i", `${out}/ok-docker.tar`])).toContain("strata-eq/ok:env");
    for (const f of ["ok.tar", "ok-docker.tar"]) expect(readFileSync(join(out, f)).includes("twelve-chars")).toBe(false);
    const viaFile = strata(["build", "--engine", "docker", "ok.image.ts", "--no-cache", "--secret", `id=tok,src=${out}/tok`, "-t", "strata-eq/ok:file", "--progress", "quiet"], { cwd: dir });
    expect(viaFile.code).toBe(0);
    expect(dockerRun("strata-eq/ok:file", ["cat", "/tok-size"]).stdout).toBe("11\n");
  });

  test("the kept build context follows edits, deletions and additions between builds", () => {
    const d = scratchProject({ "ctx.image.ts": `import { context, from, ociLayout } from "@strata/core";\nexport default from(ociLayout("./busybox")).copy(context(".", { exclude: ["node_modules", "busybox"] }), "/ctx/");\n`, "keep.txt": "one\n", "gone.txt": "bye\n", "sub/x": "x\n" });
    execFileSync("ln", ["-s", join(dir, "busybox"), join(d, "busybox")]);
    const h = home();
    const build = () => strata(["build", "--engine", "docker", "ctx.image.ts", "-t", "strata-eq/ctx:1", "--progress", "quiet"], { cwd: d, env: { STRATA_HOME: h } });
    expect(build().code).toBe(0);
    const list = () => dockerRun("strata-eq/ctx:1", ["sh", "-c", "cd /ctx && find . -type f | sort && cat keep.txt"]).stdout;
    expect(list()).toBe("./ctx.image.ts\n./gone.txt\n./keep.txt\n./sub/x\none\n");
    writeFileSync(join(d, "keep.txt"), "two\n");
    rmSync(join(d, "gone.txt"));
    rmSync(join(d, "sub"), { recursive: true });
    writeFileSync(join(d, "new.txt"), "new\n");
    expect(build().code).toBe(0);
    expect(list()).toBe("./ctx.image.ts\n./keep.txt\n./new.txt\ntwo\n");
  });

  test("the local base image is loaded once; native-only options are usage errors", () => {
    strata(["build", "--engine", "docker", "fail.image.ts", "--progress", "plain"], { cwd: dir });
    const again = strata(["build", "--engine", "docker", "ok.image.ts", "--progress", "plain"], { cwd: dir });
    expect(again.stderr).not.toContain("loaded a local base image");
    const r = strata(["build", "--engine", "docker", "ok.image.ts", "--locked"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--locked is an option of the native engine");
    // DOCKER_HOST picks the daemon; one that does not answer is a coded error, not a stack trace.
    const gone = strata(["build", "--engine", "docker", "ok.image.ts"], { cwd: dir, env: { DOCKER_HOST: `unix://${dir}/no-such.sock` } });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("error[STRATA_DOCKER_UNAVAILABLE]: the Docker daemon does not answer");
    const builder = strata(["build", "--engine", "docker", "ok.image.ts", "--builder", "remote-k8s"], { cwd: dir });
    expect(builder.stderr).toMatch(/STRATA_DOCKER_NO_BUILDX|STRATA_DOCKER_NO_BUILDER/);
  });
});
