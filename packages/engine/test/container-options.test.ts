import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Digest } from "@strata/graph";
import { describe, expect, it } from "vitest";
import { containerProcess } from "../src/container/process-config.ts";
import { readEnvFile } from "../src/container/env-file.ts";
import { parseMount, parseVolume } from "../src/container/volumes.ts";
import { checkPlatform, hostPlatform } from "../src/container/platform.ts";
import { createContainerDirs, removeContainer } from "../src/container/container-dirs.ts";
import { Store } from "../src/store/store.ts";

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

describe("-v and --mount", () => {
  const cwd = mkdtempSync(join(tmpdir(), "strata-vol-"));
  it("binds existing host paths, relative ones against the cwd, read-only with :ro", () => {
    expect(parseVolume(`${cwd}:/data`, "/")).toEqual({ type: "bind", source: cwd, target: "/data", readonly: false });
    expect(parseVolume(".:/src:ro", cwd)).toEqual({ type: "bind", source: cwd, target: "/src", readonly: true });
    expect(parseMount(`type=bind,src=${cwd},dst=/x,readonly`, "/")).toEqual({ type: "bind", source: cwd, target: "/x", readonly: true });
    expect(parseMount("type=tmpfs,target=/t,tmpfs-size=64m", "/")).toEqual({ type: "tmpfs", target: "/t", size: 64 * 1024 * 1024 });
  });
  it("refuses named volumes, missing sources, relative targets, unknown options and types", () => {
    expect(code(() => parseVolume("data:/data", cwd))).toBe("STRATA_RUN_BAD_VOLUME");
    expect(code(() => parseVolume(`${cwd}/missing:/data`, cwd))).toBe("STRATA_RUN_BAD_VOLUME");
    expect(code(() => parseVolume(`${cwd}:data`, cwd))).toBe("STRATA_RUN_BAD_VOLUME");
    expect(code(() => parseVolume(`${cwd}:/data:z`, cwd))).toBe("STRATA_RUN_BAD_VOLUME");
    expect(code(() => parseVolume(`${cwd}:/a:ro:x`, cwd))).toBe("STRATA_RUN_BAD_VOLUME");
    expect(code(() => parseMount("type=volume,target=/v", cwd))).toBe("STRATA_RUN_BAD_MOUNT");
    expect(code(() => parseMount("type=tmpfs,target=/t,tmpfs-size=lots", cwd))).toBe("STRATA_RUN_BAD_MOUNT");
    expect(code(() => parseMount(`type=bind,source=${cwd}`, cwd))).toBe("STRATA_RUN_BAD_MOUNT");
    expect(code(() => parseMount(`type=bind,source=${cwd},target=/a,bogus=1`, cwd))).toBe("STRATA_RUN_BAD_MOUNT");
    expect(code(() => parseMount(`type=bind,source=${cwd},target=/a,target=/b`, cwd))).toBe("STRATA_RUN_BAD_MOUNT");
  });
});

describe("--env-file", () => {
  it("reads docker's format: literal values, KEY from the environment, comments; bad keys name file and line", () => {
    const dir = mkdtempSync(join(tmpdir(), "strata-env-"));
    writeFileSync(join(dir, "a.env"), '# c\n\nA=1\nB="quoted stays"\n  C=x=y\nFROM_HOST\nUNSET_HERE\n');
    expect(readEnvFile("a.env", dir, { FROM_HOST: "h" })).toEqual(["A=1", 'B="quoted stays"', "C=x=y", "FROM_HOST=h"]);
    writeFileSync(join(dir, "b.env"), "OK=1\nBAD KEY=2\n");
    expect(() => readEnvFile("b.env", dir, {})).toThrow(/b\.env:2:1/);
    expect(code(() => readEnvFile("none.env", dir, {}))).toBe("STRATA_RUN_ENV_FILE");
    expect(code(() => readEnvFile("/dev/zero", dir, {}))).toBe("STRATA_RUN_ENV_FILE");
    writeFileSync(join(dir, "huge.env"), Buffer.alloc(1024 * 1024 + 1, 0x41));
    expect(() => readEnvFile("huge.env", dir, {})).toThrow(/larger than/);
  });
});

describe("the container's process", () => {
  const cfg = { Entrypoint: ["/entry"], Cmd: ["default"], Env: ["PATH=/bin", "A=image"], WorkingDir: "/app", User: "app" };
  it("follows docker: a command replaces Cmd, --entrypoint resets Cmd, -e wins over the image, KEY alone reads the host", () => {
    expect(containerProcess(cfg, {}, {})).toMatchObject({ argv: ["/entry", "default"], cwd: "/app", user: "app", env: ["PATH=/bin", "A=image"] });
    expect(containerProcess(cfg, { command: ["x"] }, {}).argv).toEqual(["/entry", "x"]);
    expect(containerProcess(cfg, { entrypoint: ["sh"] }, {}).argv).toEqual(["sh"]);
    expect(containerProcess(cfg, { entrypoint: [], command: ["ls"] }, {}).argv).toEqual(["ls"]);
    expect(containerProcess(cfg, { env: ["A=cli", "H", "GONE"], terminal: true }, { H: "host" }).env).toEqual(["PATH=/bin", "A=cli", "H=host", "TERM=xterm"]);
    expect(containerProcess({}, { command: ["true"] }, {}).env[0]).toMatch(/^PATH=\/usr\/local\/sbin:/);
  });
  it("refuses no command, a relative -w and bad -e names; notes a HEALTHCHECK", () => {
    expect(code(() => containerProcess({}, {}, {}))).toBe("STRATA_RUN_NO_COMMAND");
    expect(code(() => containerProcess(cfg, { workdir: "rel" }, {}))).toBe("STRATA_RUN_BAD_CWD");
    expect(code(() => containerProcess(cfg, { env: ["=x"] }, {}))).toBe("STRATA_RUN_BAD_ENV");
    expect(containerProcess({ ...cfg, Healthcheck: { Test: ["CMD", "true"] } }, {}, {}).notes[0]).toContain("HEALTHCHECK");
  });
});

describe("--platform", () => {
  const host = hostPlatform();
  const image = { os: host.os, architecture: host.architecture, config: {}, rootfs: { type: "layers" as const, diff_ids: [] } };
  it("runs the host's platform and refuses others as a usage error (no emulation yet)", () => {
    expect(() => checkPlatform(image, undefined)).not.toThrow();
    expect(() => checkPlatform(image, `${host.os}/${host.architecture}`)).not.toThrow();
    expect(code(() => checkPlatform(image, "linux/s390x"))).toBe("STRATA_USAGE");
    expect(code(() => checkPlatform({ ...image, architecture: "riscv64" }, undefined))).toBe("STRATA_USAGE");
    expect(code(() => checkPlatform(image, "nonsense"))).toBe("STRATA_USAGE");
  });
});

describe("container names", () => {
  it("are docker's names: a path or a dot-name never reaches the store's file system", async () => {
    const store = new Store(mkdtempSync(join(tmpdir(), "strata-names-")));
    for (const bad of ["../x", "a/b", ".hidden", "", "x".repeat(129)]) {
      expect(code(() => createContainerDirs(store, bad, { image: "i", manifest: `sha256:${"0".repeat(64)}` as Digest, argv: ["true"], created: "", pid: 1 }))).toBe("STRATA_CONTAINER_BAD_NAME");
      await expect(removeContainer(store, bad)).rejects.toMatchObject({ code: "STRATA_CONTAINER_BAD_NAME" });
    }
    await expect(removeContainer(store, "absent")).rejects.toMatchObject({ code: "STRATA_CONTAINER_NOT_FOUND" });
  });
});
