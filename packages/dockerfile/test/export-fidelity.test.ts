import { describe, expect, test } from "vitest";
import { cache, file, from, ociLayout, scratch, script, secret, tmpfs } from "@strata/core";
import { isStrataError, type SourceOp } from "@strata/graph";
import { exportDockerfile, type ExportOptions } from "../src/export/export-dockerfile.ts";
import { syntaxFeatures } from "../src/export/syntax.ts";
import { importDockerfile, pickStage } from "../src/import/import-dockerfile.ts";

const base = from("busybox:1.36");
const old: ExportOptions = { syntax: "docker-20.10", fidelity: "image", baseShell: () => ["/bin/sh", "-c"] };

function refusal(fn: () => unknown): { code: string; message: string; line: number | undefined } {
  try {
    fn();
  } catch (e) {
    if (!isStrataError(e)) throw e;
    return { code: e.code, message: e.message, line: e.locations[0]?.line };
  }
  throw new Error("expected a refusal");
}

/** The Dockerfile must read back without errors (BuildKit would parse it the same way). */
function parses(dockerfile: string): void {
  const { diagnostics } = importDockerfile(dockerfile, { file: "exported" });
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
}

describe("syntax levels", () => {
  test("docker-20.10 has none of the newer flags; dockerfile-1.4 has heredocs and --link; latest has all", () => {
    expect(Object.values(syntaxFeatures("docker-20.10")).every((v) => v === false)).toBe(true);
    expect(syntaxFeatures("dockerfile-1.4")).toMatchObject({ heredoc: true, link: true, network: true, parents: false, exclude: false, checksum: false });
    expect(Object.values(syntaxFeatures("latest")).every((v) => v === true)).toBe(true);
  });
});

describe("image fidelity for docker 20.10", () => {
  test("a multi-line script runs in exec form with the same shell argv", () => {
    const img = base.run("echo one > /one\necho two > /two\n").run("a=3\necho $a");
    const out = exportDockerfile(img.toGraph(), old);
    expect(out.dockerfile).toContain('RUN ["/bin/sh", "-c", "echo one > /one\\necho two > /two\\n"]');
    expect(out.dockerfile).toContain('RUN ["/bin/sh", "-c", "a=3\\necho $a"]');
    parses(out.dockerfile);
    // Read back, the exec argv is what the shell form would have run.
    const back = pickStage(importDockerfile(out.dockerfile, { file: "x" }), undefined).image.toGraph();
    const runs = [...back.nodes.values()].filter((o) => o.kind === "ExecOp");
    expect(runs.map((o) => (o.kind === "ExecOp" && o.command.form === "exec" ? o.command.argv : []))).toEqual([
      ["/bin/sh", "-c", "echo one > /one\necho two > /two\n"],
      ["/bin/sh", "-c", "a=3\necho $a"],
    ]);
  });

  test("the shell is the stage's SHELL when one was set, the base image's otherwise, and unknown is a refusal", () => {
    expect(exportDockerfile(base.shell(["/bin/bash", "-ec"]).run("a\nb").toGraph(), old).dockerfile).toContain('RUN ["/bin/bash", "-ec", "a\\nb"]');
    const shells: ExportOptions = { ...old, baseShell: (s: SourceOp) => (s.source.type === "image" && s.source.ref === "busybox:1.36" ? ["/bin/ash", "-c"] : undefined) };
    expect(exportDockerfile(base.run("a\nb").toGraph(), shells).dockerfile).toContain('RUN ["/bin/ash", "-c", "a\\nb"]');
    const r = refusal(() => exportDockerfile(from("other:1").run("a\nb").toGraph(), shells));
    expect(r.code).toBe("STRATA_EXPORT_UNSUPPORTED");
    expect(r.message).toContain("multi-line script");
    expect(r.line).toBeGreaterThan(0);
  });

  test("graph fidelity (strata dockerfile) still refuses what it cannot write the same way", () => {
    expect(refusal(() => exportDockerfile(base.run("a\nb\n").toGraph(), { syntax: "docker-20.10" })).code).toBe("STRATA_EXPORT_UNSUPPORTED");
    expect(refusal(() => exportDockerfile(base.copy(file("a.conf", "x\n"), "/etc/").toGraph(), { syntax: "docker-20.10" })).code).toBe("STRATA_EXPORT_UNSUPPORTED");
  });

  test("inline files become files of the build context, once per content", () => {
    const conf = file("app.conf", "listen 80\n$HOME stays\n");
    const img = base.copy(conf, "/etc/app/").copy(conf, "/etc/again/").copy(file("hi.sh", "#!/bin/sh\n", { mode: 0o755 }), "/bin/", { chown: "app" });
    const out = exportDockerfile(img.toGraph(), old);
    expect(out.contextFiles.map((f) => [f.path.replace(/[0-9a-f]{16}/, "H"), f.mode, f.data])).toEqual([
      [".strata-inline/H/app.conf", 0o644, "listen 80\n$HOME stays\n"],
      [".strata-inline/H/hi.sh", 0o755, "#!/bin/sh\n"],
    ]);
    const [conf1, sh] = out.contextFiles;
    expect(out.dockerfile).toContain(`COPY ${conf1!.path} /etc/app/\nCOPY ${conf1!.path} /etc/again/`);
    expect(out.dockerfile).toContain(`COPY --chown=app ${sh!.path} /bin/`);
    parses(out.dockerfile);
    // At the latest syntax the 0644 file stays a heredoc; a heredoc cannot give 0755, so that one stays a context file.
    const latest = exportDockerfile(img.toGraph(), { fidelity: "image" });
    expect(latest.contextFiles.map((f) => f.mode)).toEqual([0o755]);
    expect(latest.dockerfile).toContain(`COPY <<"app.conf" /etc/app/`);
  });

  test("an expanding inline file is refused when it reads a variable, kept when it is literal", () => {
    expect(refusal(() => exportDockerfile(base.env("A", "1").copy(file("f", "$A\n", { expand: true }), "/f").toGraph(), old)).message).toContain("expand");
    expect(exportDockerfile(base.copy(file("f", "plain\n", { expand: true }), "/f").toGraph(), old).contextFiles[0]?.data).toBe("plain\n");
  });

  test("a #! script is bind-mounted from the context at the same path", () => {
    const out = exportDockerfile(base.run(script("#!/bin/sh\necho hi\n", { name: "setup" })).toGraph(), old);
    const [f] = out.contextFiles;
    expect(f).toMatchObject({ mode: 0o755, data: "#!/bin/sh\necho hi\n" });
    expect(out.dockerfile).toContain(`RUN --mount=type=bind,source=${f!.path.replace(/\/setup$/, "")},target=/dev/pipes/ ["/dev/pipes/setup"]`);
    parses(out.dockerfile);
  });

  test("--link is dropped on an empty base and refused on any other", () => {
    const out = exportDockerfile(scratch().copy("a", "/a", { link: true }).toGraph(), old);
    expect(out.dockerfile).toContain("COPY a /a");
    expect(out.dockerfile).not.toContain("--link");
    expect(refusal(() => exportDockerfile(base.copy("a", "/a", { link: true }).toGraph(), old)).message).toContain("--link");
    expect(exportDockerfile(base.copy("a", "/a", { link: true }).toGraph(), { syntax: "dockerfile-1.4" }).dockerfile).toContain("COPY --link a /a");
  });

  test("what docker 20.10 misreads or rejects is refused with the call site", () => {
    for (const img of [
      base.copy("a", "/a", { chmod: "u+x" }),
      base.copy("a", "/a", { chmod: 0o4755 }),
      base.run("true", { network: "none" }),
      base.run("true", { mounts: [tmpfs("/t", { size: 1024 })] }),
      base.run("true", { mounts: [secret("s", { env: "S" })] }),
      base.healthcheck(["true"], { startInterval: "1s" }),
    ]) {
      const r = refusal(() => exportDockerfile(img.toGraph(), old));
      expect(r.code).toBe("STRATA_EXPORT_UNSUPPORTED");
      expect(r.line).toBeGreaterThan(0);
    }
    // Octal modes and the mounts docker 20.10 has are written as they are.
    expect(exportDockerfile(base.copy("a", "/a", { chmod: 0o755 }).run("true", { mounts: [cache("/c", { id: "x", sharing: "locked" }), tmpfs("/t")] }).toGraph(), old).dockerfile).toContain(
      "RUN --mount=type=cache,target=/c,id=x,sharing=locked --mount=type=tmpfs,target=/t true",
    );
  });

  test("local-transport images are written under the name they were loaded as", () => {
    const local = from(ociLayout("./busybox"));
    const img = local.copy(local.path("/bin/busybox"), "/bb");
    expect(refusal(() => exportDockerfile(img.toGraph(), old)).message).toContain("oci-layout");
    const out = exportDockerfile(img.toGraph(), { ...old, localImageName: (s) => (s.source.type === "image" && s.source.transport === "oci-layout" ? "strata-local/busybox:oci-layout-0123" : undefined) });
    expect(out.dockerfile).toMatch(/^FROM strata-local\/busybox:oci-layout-0123/m);
    parses(out.dockerfile);
  });

  test("step numbering, stage sources and lines for mapping engine progress back", () => {
    const build = base.workdir("/src").env("A", "1").run("make");
    const img = scratch().copy(build.path("/src/out"), "/out").label("a", "b").copy("x", "/x");
    const out = exportDockerfile(img.toGraph(), old);
    expect(out.numberedSteps.map((s) => s.map((x) => x.instruction))).toEqual([["WORKDIR", "RUN"], ["COPY", "COPY"]]);
    expect(out.stageSources.map((s) => (s?.source.type === "image" ? s.source.ref : s?.source.type))).toEqual(["busybox:1.36", "scratch"]);
    const lines = out.dockerfile.split("\n");
    for (const { line, step } of out.stepLines) expect(lines[line - 1]!.startsWith(step.instruction)).toBe(true);
  });
});
