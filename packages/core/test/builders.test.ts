import { describe, expect, test } from "vitest";
import { foldConfig, opDigest, type ExecOp, type FileOp, type LayerGraph } from "@strata/graph";
import { arg, bind, cache, context, file, from, git, http, scratch, secret, sh, ssh, tmpfs, TARGETARCH, type Port } from "../src/index.ts";

const execOps = (g: LayerGraph) => [...g.nodes.values()].filter((o): o is ExecOp => o.kind === "ExecOp");
const fileOps = (g: LayerGraph) => [...g.nodes.values()].filter((o): o is FileOp => o.kind === "FileOp");

describe("immutability", () => {
  test("every method returns a new image; the original is unchanged", () => {
    const a = from("busybox");
    const before = a.digest;
    const b = a.run("echo hi").env({ A: "1" }).label("x", "y");
    expect(b).not.toBe(a);
    expect(a.digest).toBe(before);
    expect(Object.isFrozen(a)).toBe(true);
    expect(() => ((a as unknown as Record<string, unknown>).x = 1)).toThrow();
  });
  test("definitions are deterministic: building the same chain twice gives the same digest", () => {
    const build = () => from("node:22-slim").workdir("/app").copy("package.json", ".").run("npm ci").cmd(["node", "x.js"]);
    expect(build().digest).toBe(build().digest);
  });
});

describe("what changes which digest", () => {
  const base = from("node:22").workdir("/app").run("npm ci").copy(".", ".");
  test("a label or cmd after a run changes no op digest", () => {
    const a = base.label("v", "1").cmd(["node", "a.js"]).toGraph();
    const b = base.label("v", "2").cmd(["node", "b.js"]).toGraph();
    expect(a.digest).not.toBe(b.digest);
    expect([...a.nodes.keys()]).toEqual([...b.nodes.keys()]);
  });
  test("changing a run changes that op and everything after it, not before", () => {
    const mk = (cmd: string) => from("node:22").workdir("/app").run(cmd).copy(".", ".").toGraph();
    const a = mk("npm ci");
    const b = mk("npm install");
    const [wa, ra, ca] = [...a.image.steps].map((s) => opDigest(s.op!));
    const [wb, rb, cb] = [...b.image.steps].map((s) => opDigest(s.op!));
    expect(wa).toBe(wb);
    expect(ra).not.toBe(rb);
    expect(ca).not.toBe(cb);
  });
  test("an ENV before a COPY that does not read it leaves the COPY's own content alone; a RUN sees it", () => {
    const a = from("x").env("A", "1").copy("f", "/f");
    const b = from("x").env("A", "2").copy("f", "/f");
    expect(fileOps(a.toGraph())[0]!.scope).toEqual([]);
    expect(opDigest(fileOps(a.toGraph())[0]!)).toBe(opDigest(fileOps(b.toGraph())[0]!));
    expect(opDigest(execOps(from("x").env("A", "1").run("env").toGraph())[0]!)).not.toBe(opDigest(execOps(from("x").env("A", "2").run("env").toGraph())[0]!));
  });
  test("a COPY whose destination reads an env var keeps that var in its scope", () => {
    const op = fileOps(from("x").env("HOME2", "/h").copy("f", "$HOME2/f").toGraph())[0]!;
    expect(op.scope).toEqual([{ env: "HOME2", value: "/h" }]);
  });
});

describe("run", () => {
  test("shell and exec forms, mounts by input, network and security", () => {
    const deps = from("golang:1.23");
    const ctx = context();
    const img = from("debian").run("make", {
      mounts: [cache("/root/.cache", { id: "c", sharing: "locked" }), secret("npmrc", { target: "/root/.npmrc" }), bind(deps.path("/go"), "/go"), bind(ctx.path("src"), "/src"), tmpfs("/tmp"), ssh()],
      network: "none",
      security: "insecure",
    });
    const op = execOps(img.toGraph())[0]!;
    expect(op.command).toEqual({ form: "shell", script: "make" });
    expect(op.network).toBe("none");
    expect(op.security).toBe("insecure");
    expect(op.inputs).toHaveLength(3);
    // Sorted by target (ssh and secret have defaults filled in at build time: empty target sorts first).
    expect(op.mounts.map((m) => `${m.type}:${"target" in m ? m.target : ""}`)).toEqual(["ssh:", "bind:/go", "cache:/root/.cache", "secret:/root/.npmrc", "bind:/src", "tmpfs:/tmp"]);
    expect(op.mounts.find((m) => m.type === "bind" && m.target === "/go")).toMatchObject({ input: 1, source: "/go" });
    expect(op.mounts.find((m) => m.type === "bind" && m.target === "/src")).toMatchObject({ input: 2, source: "src" });
    expect(execOps(from("x").run(["echo", "a b"]).toGraph())[0]!.command).toEqual({ form: "exec", argv: ["echo", "a b"] });
  });
  test("a run snapshots user, shell, env, args and workdir in order", () => {
    const op = execOps(from("x").arg("V", "1").env("E", "$V").workdir("/w").user("app").shell(["/bin/bash", "-c"]).run("echo").toGraph())[0]!;
    expect(op.scope).toEqual([{ arg: "V", default: "1" }, { env: "E", value: "$V" }, { workdir: "/w" }]);
    expect(op.user).toBe("app");
    expect(op.shell).toEqual(["/bin/bash", "-c"]);
  });
  test("bad arguments are caught at the call", () => {
    expect(() => from("x").run("   ")).toThrow(/needs a command/);
    expect(() => from("x").run([1 as unknown as string])).toThrow(/array of strings/);
    expect(() => from("x").run("a", { mounts: [{} as never] })).toThrow(/mounts/);
  });
});

describe("copy and add", () => {
  test("strings read the build context; copies from images read their filesystem", () => {
    const build = from("golang").run("go build -o /out/app");
    const g = scratch().copy(build.path("/out/app"), "/app", { chmod: 0o755, chown: { user: 65532, group: 65532 } }).toGraph();
    const op = fileOps(g)[0]!;
    expect(op.inputs[1]).toBe(build.toDefinition().rootfs);
    expect(op.actions[0]).toEqual({ action: "copy", from: 1, src: ["/out/app"], dest: "/app", chown: "65532:65532", chmod: "755" });
  });
  test("copy('a') and copy(context().files('a')) are the same op", () => {
    const a = from("x").copy("a", "/a").toGraph();
    const b = from("x").copy(context().files("a"), "/a").toGraph();
    expect(a.root).toBe(b.root);
  });
  test("every COPY flag lands in the action", () => {
    const op = fileOps(from("x").copy(["a", "b"], "/d/", { link: true, parents: true, exclude: ["*.md"], chmod: "u+x,go=r" }).toGraph())[0]!;
    expect(op.actions[0]).toMatchObject({ src: ["a", "b"], dest: "/d/", link: true, parents: true, exclude: ["*.md"], chmod: "u+x,go=r" });
    const add = fileOps(from("x").add(http("https://example.com/a.tgz", { checksum: "sha256:abc" }), "/a", { unpack: false }).toGraph());
    expect(add.at(-1)!.actions[0]).toMatchObject({ add: true, unpack: false });
    const g = fileOps(from("x").add(git("https://github.com/a/b.git", { ref: "v1", keepGitDir: true }), "/src", { keepGitDir: true }).toGraph());
    expect(g.at(-1)!.inputs[1]!.kind).toBe("SourceOp");
  });
  test("file() copies inline content like a heredoc", () => {
    const g = from("x").copy(file("motd", "hi\n"), "/etc/").toGraph();
    const mk = fileOps(g).find((o) => o.actions[0]!.action === "mkfile")!;
    expect(mk.actions[0]).toEqual({ action: "mkfile", path: "/motd", data: "hi\n", mode: 0o644 });
  });
  test("one copy reads from one place", () => {
    expect(() => from("x").copy(["a", from("y").path("/b")], "/")).toThrow(expect.objectContaining({ code: "STRATA_COPY_MIXED_SOURCES" }));
  });
  test("bad modes and absolute context paths are refused", () => {
    expect(() => from("x").copy("a", "/a", { chmod: "rwx" })).toThrow(/invalid mode/);
    expect(() => from("x").copy("a", "/a", { chmod: 0o17777 })).toThrow(/invalid mode/);
    expect(() => context("/etc")).toThrow(/relative/);
  });
});

describe("args", () => {
  test("global args are visible to from() and stay symbolic", () => {
    const V = arg("NODE_VERSION_T1", "22");
    const g = from(`node:${V}-slim`).toGraph();
    const src = g.nodes.get(g.root)!;
    expect(src).toMatchObject({ source: { type: "image", ref: "node:$NODE_VERSION_T1-slim", scope: [{ arg: "NODE_VERSION_T1", default: "22" }] } });
  });
  test("only the args a from() reads are in its op", () => {
    arg("UNRELATED_T2", "x");
    const g = from("debian:12").toGraph();
    expect(g.nodes.get(g.root)).not.toHaveProperty("source.scope");
  });
  test("a stage re-declares a global arg to read it, keeping its default", () => {
    const V = arg("V_T3", "1.0");
    const op = execOps(from("x").arg(V).arg("LOCAL", 3).run("echo $V_T3").toGraph())[0]!;
    expect(op.scope).toEqual([{ globalArg: "V_T3", default: "1.0" }, { arg: "V_T3", global: true }, { arg: "LOCAL", default: "3" }]);
  });
  test("a global default that reads another global keeps Docker's meaning in a stage", () => {
    const A = arg("A_T5", "1");
    const B = arg("B_T5", "${A_T5}-b");
    const img = from("x").arg(B).env("E", `${B}`);
    const { config } = foldConfig({}, img.toDefinition(), {});
    expect(config.Env).toContain("E=1-b");
    expect(foldConfig({}, img.toDefinition(), { buildArgs: { A_T5: "9" } }).config.Env).toContain("E=9-b");
    expect(foldConfig({}, img.toDefinition(), { buildArgs: { B_T5: "z" } }).config.Env).toContain("E=z");
    void A;
  });
  test("a new stage does not see the previous stage's args", () => {
    const a = from("x").arg("A", "1").env("E", "$A");
    const op = execOps(from(a).run("echo").toGraph()).at(-1)!;
    expect(op.scope.at(-1)).toEqual({ stage: true });
  });
  test("predefined args are declared like any other", () => {
    const op = execOps(from("x").arg(TARGETARCH).run("echo $TARGETARCH").toGraph())[0]!;
    expect(op.scope).toEqual([{ arg: "TARGETARCH" }]);
  });
  test("invalid names are refused", () => {
    expect(() => arg("1BAD")).toThrow(/invalid build arg name/);
    expect(() => from("x").arg("a-b")).toThrow(/invalid build arg name/);
  });
});

describe("config", () => {
  test("folding an image's steps over its base config gives Docker's config", () => {
    const img = from("x")
      .env({ A: "1", B: "$A-2" })
      .workdir("/app")
      .workdir("sub")
      .user("app:app")
      .expose(80, "53/udp", "8000-8010")
      .label({ k: "v" })
      .volume("/data")
      .healthcheck(["curl", "-f", "http://localhost/"], { interval: "30s", timeout: "1m30s", retries: 3 })
      .stopSignal("SIGINT")
      .onbuild("RUN echo triggered")
      .entrypoint(["/bin/app"])
      .withoutEnv("B");
    const { config, history } = foldConfig({ Env: ["PATH=/bin", "B=old"], Cmd: ["inherited"], Labels: { base: "1" } }, img.toDefinition(), {});
    expect(config).toMatchObject({
      Env: ["PATH=/bin", "A=1"],
      WorkingDir: "/app/sub",
      User: "app:app",
      // A range exposes every port in it, as Docker stores it.
      ExposedPorts: { "80/tcp": {}, "53/udp": {}, ...Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`${8000 + i}/tcp`, {}])) },
      Labels: { base: "1", k: "v" },
      Volumes: { "/data": {} },
      Healthcheck: { Test: ["CMD", "curl", "-f", "http://localhost/"], Interval: 30e9, Timeout: 90e9, Retries: 3 },
      StopSignal: "SIGINT",
      OnBuild: ["RUN echo triggered"],
      Entrypoint: ["/bin/app"],
      Cmd: null,
    });
    expect(history.filter((h) => !h.empty_layer).map((h) => h.created_by)).toEqual(["WORKDIR /app", "WORKDIR sub"]);
  });
  test("ENTRYPOINT keeps a CMD set in the same stage; shell forms use the SHELL", () => {
    const img = from("x").cmd(sh("serve")).shell(["/bin/bash", "-c"]).entrypoint(sh("exec app"));
    const { config } = foldConfig({}, img.toDefinition(), {});
    expect(config.Cmd).toEqual(["/bin/sh", "-c", "serve"]);
    expect(config.Entrypoint).toEqual(["/bin/bash", "-c", "exec app"]);
    expect(config.Shell).toEqual(["/bin/bash", "-c"]);
  });
  test("healthcheck none, labels removed, ports removed", () => {
    const img = from("x").healthcheck("none").withoutLabel("a").withoutExpose(80).withoutVolume("/v");
    const { config } = foldConfig({ Labels: { a: "1", b: "2" }, ExposedPorts: { "80/tcp": {} }, Volumes: { "/v": {} } }, img.toDefinition(), {});
    expect(config.Healthcheck).toEqual({ Test: ["NONE"] });
    expect(config.Labels).toEqual({ b: "2" });
    expect(config.ExposedPorts).toBeUndefined();
    expect(config.Volumes).toBeUndefined();
  });
  test("build args expand in config at fold time, never before", () => {
    const V = arg("APP_VERSION_T4", "dev");
    const img = from("x").arg(V).label("version", `${V}`).env("V", `${V}`);
    expect(img.toGraph().image.steps.map((s) => s.createdBy)).toEqual(["ARG APP_VERSION_T4", "LABEL version=$APP_VERSION_T4", "ENV V=$APP_VERSION_T4"]);
    expect(foldConfig({}, img.toDefinition(), { buildArgs: { APP_VERSION_T4: "1.2.3" } }).config).toMatchObject({ Labels: { version: "1.2.3" }, Env: expect.arrayContaining(["V=1.2.3"]) });
    expect(foldConfig({}, img.toDefinition(), {}).config.Labels).toEqual({ version: "dev" });
  });
  test("invalid config values fail at the call", () => {
    expect(() => from("x").expose("80/xyz" as never)).toThrow(/invalid port/);
    // Values the type system cannot see are coded errors at the call, with its position.
    const port: number = 99999;
    expect(() => from("x").expose(port)).toThrow(expect.objectContaining({ code: "STRATA_BAD_PORT", locations: [expect.objectContaining({ file: expect.stringContaining("builders.test.ts") })] }));
    const range = "9000-8000" as string as Port;
    expect(() => from("x").expose(range)).toThrow(expect.objectContaining({ code: "STRATA_BAD_PORT" }));
    expect(() => from("x").stopSignal("FOO" as never)).toThrow(expect.objectContaining({ code: "STRATA_BAD_SIGNAL" }));
    expect(() => from("x").stopSignal(0)).toThrow(expect.objectContaining({ code: "STRATA_BAD_SIGNAL" }));
    expect(() => from("x").healthcheck(["x"], { interval: "5 minutes" as never })).toThrow(expect.objectContaining({ code: "STRATA_BAD_DURATION" }));
    expect(() => from("x").env({ "A B": "1" })).toThrow(/invalid environment variable name/);
    expect(() => from("x").onbuild("FROM x")).toThrow(/ONBUILD cannot/);
    expect(() => from("not valid")).toThrow(expect.objectContaining({ code: "STRATA_BAD_IMAGE_REF" }));
  });
});

describe("fragments", () => {
  test("with(fn) applies a reusable fragment", () => {
    const nonRoot = (uid: number) => (img: ReturnType<typeof from>) => img.user({ user: uid, group: uid });
    const { config } = foldConfig({}, from("x").with(nonRoot(1000)).toDefinition(), {});
    expect(config.User).toBe("1000:1000");
    expect(() => from("x").with(() => 1 as never)).toThrow(/must return an Image/);
  });
  test("call sites point at the user's code", () => {
    const g = from("x").run("make").toGraph();
    const loc = g.image.steps[0]!.meta!.location as () => { file: string; line: number };
    expect(loc().file).toMatch(/builders\.test\.ts$/);
  });
});
