import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { docker, dockerAvailable } from "../helpers/docker.ts";
import { FIXTURES } from "./fixtures.ts";
import { formatDifferences, formatTable, imageTag, mountStubs, prepareProject, runAll, type FixtureResult } from "./harness.ts";
import { diffImages, flattenSaved, type TreeEntry } from "./image-tree.ts";

const isRoot = process.getuid?.() === 0;

/**
 * The equivalence harness: every fixture is built natively and with `--engine docker`, both
 * images are loaded into dockerd, saved, flattened and compared — every path (type, mode,
 * owner, size, content hash, symlink target, hard-link group, xattrs) and the config (env, cmd,
 * entrypoint, workdir, user, ports, volumes, labels, healthcheck, stop signal, shell, onbuild,
 * platform). Timestamps are the one difference allowed (they are not compared). Set
 * STRATA_EQ_ONLY=name,name to run some fixtures.
 */
describe.skipIf(!dockerAvailable() || !isRoot)("native and docker engines build the same images", () => {
  const only = process.env.STRATA_EQ_ONLY?.split(",");
  const fixtures = only ? FIXTURES.filter((f) => only.includes(f.name)) : FIXTURES;
  const results = new Map<string, FixtureResult>();

  beforeAll(async () => {
    const project = await prepareProject(fixtures);
    for (const r of await runAll(project, fixtures, { jobs: Number(process.env.STRATA_EQ_JOBS ?? 2) })) results.set(r.fixture.name, r);
  }, 300_000);

  afterAll(() => {
    if (results.size) console.log(`\n${formatTable([...results.values()])}\n`);
  });

  test("there are at least 25 fixtures", () => {
    expect(FIXTURES.length).toBeGreaterThanOrEqual(25);
  });

  test("the comparison sees a difference: one fixture's native image against another's docker image", async () => {
    const a = fixtures.find((f) => f.name === "copy-file");
    const b = fixtures.find((f) => f.name === "copy-parents");
    if (!a || !b || results.get(a.name)?.error || results.get(b.name)?.error) return;
    const out = mkdtempSync(join(tmpdir(), "strata-eq-neg-"));
    docker(["save", "-o", join(out, "x.tar"), imageTag(a, "native"), imageTag(b, "docker")]);
    const diffs = diffImages(await flattenSaved(join(out, "x.tar"), imageTag(a, "native")), await flattenSaved(join(out, "x.tar"), imageTag(b, "docker")));
    expect(diffs.map((d) => d.path)).toEqual(["/app", "/app/a.txt", "/etc/app", "/etc/app/conf.d", "/etc/app/conf.d/x.conf", "/opt", "/opt/lib", "/opt/lib/src", "/opt/lib/src/one.txt", "/opt/lib/src/skip.md", "/opt/lib/src/two.txt"]);
  });

  for (const f of fixtures) {
    test(`${f.name}: ${f.what}`, () => {
      const r = results.get(f.name)!;
      const problems = r.error || r.differences.length ? formatDifferences(r) : "";
      expect(problems, `${f.name} differs:\n${problems}`).toBe("");
      expect(r.paths).toBeGreaterThan(0);
    });
  }
});

describe("the mount-stub rule accepts only empty docker-only mount points", () => {
  const dir = { type: "directory", mode: "0755", uid: 0, gid: 0 } as const;
  const diff = (path: string) => ({ path, native: "(absent)", docker: "{…}" });
  const fixture = { name: "x", what: "x", mountTargets: ["/var/cache/app"] };

  test("runtime mount points and declared targets (with parents) that hold nothing else", () => {
    const tree = new Map<string, TreeEntry>([["proc", dir], ["var", dir], ["var/cache", dir], ["var/cache/app", dir]]);
    const r = mountStubs([diff("/proc"), diff("/var"), diff("/var/cache"), diff("/var/cache/app")], tree, fixture);
    expect(r.stubs).toEqual(["/proc", "/var", "/var/cache", "/var/cache/app"]);
    expect(r.rest).toEqual([]);
  });

  test("not a stub: content inside, another mode or owner, an undeclared path, or present natively", () => {
    const tree = new Map<string, TreeEntry>([["proc", dir], ["proc/x", { type: "file", mode: "0644", uid: 0, gid: 0, size: 1 }], ["sys", { ...dir, mode: "0555" }], ["mnt", dir], ["dev", dir]]);
    const diffs = [diff("/proc"), diff("/proc/x"), diff("/sys"), diff("/mnt"), { path: "/dev", native: '{"type":"directory"}', docker: "{…}" }];
    expect(mountStubs(diffs, tree, fixture).stubs).toEqual([]);
  });
});
