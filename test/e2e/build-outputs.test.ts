import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { scratchProject, strata, STRATA_BIN } from "../helpers/cli.ts";
import { busyboxLayout } from "../helpers/busybox.ts";
import { docker, dockerAvailable } from "../helpers/docker.ts";
import { treeOfDir, treeOfTar, type TreeNode } from "../helpers/fs-tree.ts";
import { isRoot, missing } from "../helpers/requires.ts";

const IMAGE = "buildx-e2e/outputs:1";

// Every kind of entry an exporter must get right: owners, setuid, a hard link, a symlink, a
// file deleted by a later layer (whiteout), a directory replaced by a later layer (opaque).
const MODULE = `import { from, ociLayout } from "@strata/core";

export default from(ociLayout("./busybox"))
  .run("mkdir -p /data/sub /data/opq && echo hello > /data/a && ln /data/a /data/hard && ln -s a /data/sym && chown 1000:50 /data/a && echo gone > /data/gone && echo old > /data/opq/old && chmod 4755 /data/sub")
  .run("rm /data/gone && rm -rf /data/opq && mkdir /data/opq && echo new > /data/opq/new && chmod 2750 /data/sub && chown -h 1000:1000 /data/sym")
  .cmd(["sh"]);
`;

/** What `docker create` adds to a container's filesystem (mount points and the init layer), never the image's. */
const DOCKER_ADDED = /^(\.dockerenv|etc\/(hosts|hostname|resolv\.conf|mtab)|dev(\/.*)?|proc|sys)$/;
/** Directories whose mtime docker's init layer changes when it creates its mount points there. */
const TOUCHED_BY_DOCKER = new Set(["etc", "dev", "proc", "sys"]);

function normalize(tree: Map<string, TreeNode>): Record<string, TreeNode> {
  const out: Record<string, TreeNode> = {};
  for (const [p, n] of [...tree].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (DOCKER_ADDED.test(p)) continue;
    out[p] = TOUCHED_BY_DOCKER.has(p) ? { ...n, mtime: -1 } : n;
  }
  return out;
}

function run(args: readonly string[], cwd: string, home: string): { code: number; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [STRATA_BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: "1", STRATA_HOME: home }, maxBuffer: 1 << 28 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString() };
}

describe.skipIf(missing({ root: isRoot, dockerd: dockerAvailable() }))("buildx outputs: -o PATH, -o -, type=local|tar, several -o", () => {
  let dir: string;
  let home: string;
  let exported: Record<string, TreeNode>;
  let stdoutTar: string;
  beforeAll(async () => {
    dir = scratchProject({ "app.image.ts": MODULE });
    await busyboxLayout(dir);
    home = mkdtempSync(join(tmpdir(), "buildx-outputs-home-"));
    mkdirSync(join(dir, "existing"));
    writeFileSync(join(dir, "existing", "keep.txt"), "mine\n");
    // One build, five outputs (stdout tar, tar file, fresh dir, existing dir) and --load.
    const r = run(["build", "app.image.ts", "-t", IMAGE, "--load", "--iidfile", "iid", "-o", "-", "-o", "type=tar,dest=fs.tar", "-o", "out", "-o", "type=local,dest=existing", "--progress", "plain"], dir, home);
    expect(r.stderr).toContain("wrote tar to stdout");
    expect(r.code, r.stderr).toBe(0);
    stdoutTar = join(dir, "stdout.tar");
    writeFileSync(stdoutTar, r.stdout);
    const id = docker(["create", IMAGE]).trim();
    try {
      docker(["export", "-o", join(dir, "docker-export.tar"), id]);
    } finally {
      docker(["rm", id]);
    }
    exported = normalize(await treeOfTar(join(dir, "docker-export.tar")));
  });
  afterAll(() => {
    spawnSync("/usr/bin/docker", ["rmi", IMAGE], { stdio: "ignore" });
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (home) rmSync(home, { recursive: true, force: true });
  });

  test("the --iidfile ID is the image ID dockerd has after --load", () => {
    const iid = readFileSync(join(dir, "iid"), "utf8");
    expect(iid).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(docker(["image", "inspect", "--format", "{{.Id}}", IMAGE]).trim()).toBe(iid);
  });

  test("-o - (stdout) holds the tree docker create + docker export gives", async () => {
    const tree = normalize(await treeOfTar(stdoutTar));
    expect(tree).toEqual(exported);
    // The cases the module sets up are there, as docker has them.
    expect(tree["data/a"]).toMatchObject({ uid: 1000, gid: 50, links: "data/a data/hard" });
    expect(tree["data/sym"]).toMatchObject({ type: "symlink", content: "a", uid: 1000, gid: 1000 });
    expect(tree["data/sub"]).toMatchObject({ type: "directory", mode: 0o2750 });
    expect(tree["data/gone"]).toBeUndefined();
    expect(tree["data/opq/old"]).toBeUndefined();
    expect(tree["data/opq/new"]?.type).toBe("file");
    expect(Object.keys(tree).some((p) => p.includes(".wh."))).toBe(false);
  });

  test("type=tar,dest=FILE is the same bytes as -o -", () => {
    expect(readFileSync(join(dir, "fs.tar")).equals(readFileSync(stdoutTar))).toBe(true);
  });

  test("-o DIR (type=local) holds the same tree, owners and modes applied", () => {
    expect(normalize(treeOfDir(join(dir, "out")))).toEqual(exported);
  });

  test("type=local into an existing directory merges: the image's files, and the user's kept", () => {
    const tree = treeOfDir(join(dir, "existing"));
    expect(tree.get("keep.txt")?.type).toBe("file");
    tree.delete("keep.txt");
    expect(normalize(tree)).toEqual(exported);
    expect(readdirSync(join(dir, "existing")).some((n) => n.startsWith(".strata-output-"))).toBe(false);
  });

  test("type=local never writes through a symlink in an existing destination", () => {
    const outside = mkdtempSync(join(tmpdir(), "buildx-outside-"));
    mkdirSync(join(dir, "hostile"));
    symlinkSync(outside, join(dir, "hostile", "data"));
    const r = run(["build", "app.image.ts", "-o", "hostile"], dir, home);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(outside)).toEqual([]);
    expect(lstatSync(join(dir, "hostile", "data")).isDirectory()).toBe(true);
    expect(readFileSync(join(dir, "hostile", "data", "a"), "utf8")).toBe("hello\n");
    rmSync(outside, { recursive: true, force: true });
  });

  test("a failed build leaves no output behind", () => {
    writeFileSync(join(dir, "bad.image.ts"), `import { from, ociLayout } from "@strata/core";\nexport default from(ociLayout("./busybox")).run("exit 3");\n`);
    const r = run(["build", "bad.image.ts", "-o", "bad-out", "-o", "type=tar,dest=bad.tar"], dir, home);
    expect(r.code).toBe(1);
    expect(existsSync(join(dir, "bad-out"))).toBe(false);
    expect(existsSync(join(dir, "bad.tar"))).toBe(false);
    expect(readdirSync(dir).filter((n) => n.includes("strata-tmp") || n.includes(".tmp-"))).toEqual([]);
  });

  test("type=oci,dest=- and type=docker,dest=- stream the image; stdout carries nothing else", () => {
    for (const type of ["oci", "docker"]) {
      const r = run(["build", "app.image.ts", "-o", `type=${type},dest=-`, "--progress", "plain"], dir, home);
      expect(r.code, r.stderr).toBe(0);
      writeFileSync(join(dir, `${type}.tar`), r.stdout);
      const listing = spawnSync("tar", ["-tf", join(dir, `${type}.tar`)], { encoding: "utf8" });
      expect(listing.status).toBe(0);
      expect(listing.stdout).toContain(type === "oci" ? "index.json" : "manifest.json");
    }
  });

  test("output specs buildx refuses are usage errors", () => {
    const bad = [
      ["-o", "type=local,dest=-"],
      ["-o", "-", "-o", "type=oci,dest=-"],
      ["-o", "type=bogus,dest=x"],
      ["-o", "type=tar,dest=x,compression=gzip"],
      ["-o", "type=local"],
    ];
    for (const args of bad) {
      const r = strata(["build", "app.image.ts", ...args], { cwd: dir, env: { STRATA_HOME: home } });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toContain("STRATA_USAGE");
    }
  });
});
