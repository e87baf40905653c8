import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readOciLayout, writeDockerArchive } from "@strata/oci";
import { busyboxLayout } from "../helpers/busybox.ts";
import { REPO, scratchProject, strataAsync, writeFiles, type CliResult } from "../helpers/cli.ts";
import { DOCKER, docker } from "../helpers/docker.ts";
import { moduleSource, type Fixture } from "./fixtures.ts";
import { diffImages, flattenSaved, type Difference, type TreeEntry } from "./image-tree.ts";

interface EngineRun {
  readonly ms: number;
  readonly result: CliResult;
}

export interface FixtureResult {
  readonly fixture: Fixture;
  readonly native: EngineRun;
  readonly docker: EngineRun;
  /** Paths in the compared trees (the larger of the two). */
  readonly paths: number;
  readonly differences: readonly Difference[];
  /** Docker-only mount stubs accepted as the known difference (see mountStubs). */
  readonly stubs: readonly string[];
  /** A build that failed, or an image that could not be read. */
  readonly error?: string;
}

/** The name a fixture's image gets from each engine. */
export const imageTag = (f: Fixture, engine: "native" | "docker") => `strata-eq/${f.name}:${engine}`;

/** `dockerDaemon(…)` fixtures read this image: the busybox layout, loaded with its exact bytes. */
const DAEMON_BASE = "strata-eq/busybox:1";

/**
 * The harness project: a directory where modules import the workspace packages, the busybox
 * base as an OCI layout (`busybox/`), and one directory per fixture (its module and context).
 */
export async function prepareProject(fixtures: readonly Fixture[]): Promise<string> {
  const dir = scratchProject();
  const layout = await busyboxLayout(dir);
  for (const f of fixtures) {
    if (f.existing) continue;
    const fdir = join(dir, f.name);
    mkdirSync(fdir, { recursive: true });
    writeFiles(fdir, { ...f.files, "image.image.ts": moduleSource(f) });
    f.setup?.(fdir);
  }
  await loadLayout(layout, DAEMON_BASE);
  return dir;
}

async function loadLayout(layout: string, tag: string): Promise<void> {
  const image = await readOciLayout(layout, { ref: "latest" });
  const child = spawn(DOCKER, ["load"], { stdio: ["pipe", "ignore", "pipe"] });
  let err = "";
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const done = new Promise<number>((res) => child.on("close", (code) => res(code ?? 1)));
  await writeDockerArchive([{ image, tags: [tag] }], { stream: child.stdin });
  child.stdin.end();
  if ((await done) !== 0) throw new Error(`docker load failed: ${err}`);
}

/** Builds one fixture with both engines, loads both into dockerd, saves them, and compares. */
export async function runFixture(project: string, f: Fixture, home: string): Promise<FixtureResult> {
  const file = f.existing ? join(REPO, f.existing) : `${f.name}/image.image.ts`;
  const extra = (f.args ?? []).map((a) => a.replaceAll("{dir}", join(project, f.name)));
  const timed = async (args: string[], env: NodeJS.ProcessEnv = {}): Promise<EngineRun> => {
    const t = performance.now();
    const result = await strataAsync(args, { cwd: project, env });
    return { ms: performance.now() - t, result };
  };
  const native = await timed(["build", file, "-t", imageTag(f, "native"), "--load", "--progress", "quiet", ...extra], { STRATA_HOME: home });
  const dockerRun = await timed(["build", file, "--engine", "docker", "-t", imageTag(f, "docker"), "--progress", "plain", ...extra]);
  const failed = [native.result.code ? `native build failed:\n${native.result.stderr}` : "", dockerRun.result.code ? `docker build failed:\n${dockerRun.result.stderr}` : ""].filter(Boolean);
  if (failed.length) return { fixture: f, native, docker: dockerRun, paths: 0, differences: [], stubs: [], error: failed.join("\n") };
  const out = mkdtempSync(join(tmpdir(), "strata-eq-"));
  try {
    const tar = join(out, "images.tar");
    docker(["save", "-o", tar, imageTag(f, "native"), imageTag(f, "docker")]);
    const [a, b] = await Promise.all([flattenSaved(tar, imageTag(f, "native")), flattenSaved(tar, imageTag(f, "docker"))]);
    const { stubs, rest } = mountStubs(diffImages(a, b), b.tree, f);
    return { fixture: f, native, docker: dockerRun, paths: Math.max(a.tree.size, b.tree.size), differences: rest, stubs };
  } catch (e) {
    return { fixture: f, native, docker: dockerRun, paths: 0, differences: [], stubs: [], error: (e as Error).message };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The mount points every RUN step has: runc creates them when the image lacks them. */
const RUNTIME_MOUNT_POINTS = ["/dev", "/proc", "/sys"];

/**
 * The one known, unavoidable difference besides timestamps: Docker 20.10's BuildKit (0.8)
 * creates the mount points a RUN step needs (/dev, /proc, /sys, and the targets of its cache,
 * bind, tmpfs and secret mounts, with their parents) and leaves them in the layer as empty
 * root-owned 0755 directories. BuildKit 0.10+ removes such stubs after the step (its
 * mount-stub cleaner), and so does the native engine. A difference is accepted as a stub only
 * if the path is absent natively, is an empty 0755 root directory on the docker side (or holds
 * only such stubs), and is a runtime mount point or a mount target the fixture declares (or a
 * parent of one). Everything else still fails.
 */
export function mountStubs(diffs: readonly Difference[], docker: ReadonlyMap<string, TreeEntry>, f: Fixture): { stubs: string[]; rest: Difference[] } {
  const targets = [...RUNTIME_MOUNT_POINTS, ...(f.mountTargets ?? [])];
  const allowed = (p: string) => targets.some((t) => t === p || t.startsWith(`${p}/`));
  const isStubDir = (p: string) => {
    const e = docker.get(p.slice(1));
    return e?.type === "directory" && e.mode === "0755" && e.uid === 0 && e.gid === 0 && !e.xattrs;
  };
  const candidates = new Set(diffs.filter((d) => d.native === "(absent)" && allowed(d.path) && isStubDir(d.path)).map((d) => d.path));
  // A stub holds nothing but other stubs.
  const onlyStubsBelow = (p: string) => [...docker.keys()].filter((k) => k.startsWith(`${p.slice(1)}/`)).every((k) => candidates.has(`/${k}`));
  const stubs = [...candidates].filter(onlyStubsBelow).sort();
  return { stubs, rest: diffs.filter((d) => !stubs.includes(d.path)) };
}

/** The results as a table: fixture, what it covers, paths compared, verdict, both build times. */
export function formatTable(results: readonly FixtureResult[]): string {
  const rows = results.map((r) => [
    r.fixture.name,
    r.fixture.what,
    String(r.paths),
    r.error ? "ERROR" : r.differences.length ? `DIFF (${r.differences.length})` : r.stubs.length ? `same (+${r.stubs.length} docker mount stubs)` : "same",
    `${(r.native.ms / 1000).toFixed(2)}s`,
    `${(r.docker.ms / 1000).toFixed(2)}s`,
  ]);
  const head = ["fixture", "covers", "paths", "result", "native", "docker"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  const same = results.filter((r) => !r.error && !r.differences.length).length;
  const stubbed = [...new Set(results.flatMap((r) => r.stubs))].sort();
  return [
    line(head),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.map(line),
    `${same} of ${results.length} fixtures build the same image with both engines (timestamps not compared).`,
    ...(stubbed.length ? [`Docker 20.10 mount stubs accepted (empty 0755 root dirs BuildKit 0.8 leaves for RUN mounts): ${stubbed.join(" ")}`] : []),
  ].join("\n");
}

/** The differences of one fixture, for a failure message. */
export function formatDifferences(r: FixtureResult): string {
  if (r.error) return r.error;
  return r.differences.map((d) => `${d.path}\n    native: ${d.native}\n    docker: ${d.docker}`).join("\n");
}
