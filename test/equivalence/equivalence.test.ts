import { afterAll, describe, expect, test } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { docker, dockerAvailable } from "../helpers/docker.ts";
import { isRoot, missing } from "../helpers/requires.ts";
import { FIXTURES, type Fixture } from "./fixtures.ts";
import { formatDifferences, formatTable, imageTag, mountStubs, prepareProject, runFixture, type FixtureResult } from "./harness.ts";
import { diffImages, flattenSaved, type TreeEntry } from "./image-tree.ts";

/** A fixture's own limit: both builds, save and compare, on a loaded 2-core machine. */
const FIXTURE_MS = 240_000;

/**
 * The equivalence harness: every fixture is built natively and with `--engine docker`, both
 * images are loaded into dockerd, saved, flattened and compared — every path (type, mode,
 * owner, size, content hash, symlink target, hard-link group, xattrs) and the config (env, cmd,
 * entrypoint, workdir, user, ports, volumes, labels, healthcheck, stop signal, shell, onbuild,
 * platform). Timestamps are the one difference allowed (they are not compared). Set
 * STRATA_EQ_ONLY=name,name to run some fixtures, STRATA_EQ_JOBS=n to build n at once (2).
 *
 * Each fixture is its own test with its own time limit, and no hook builds anything: a busy
 * machine makes one slow fixture fail alone, never a hook that skips them all. While a fixture's
 * test waits for its builds, the next fixtures' builds already run (jobs at once), so a test
 * waits at most for its own work.
 */
describe.skipIf(missing({ dockerd: dockerAvailable(), root: isRoot }))("native and docker engines build the same images", () => {
  const only = process.env.STRATA_EQ_ONLY?.split(",");
  const fixtures = only ? FIXTURES.filter((f) => only.includes(f.name)) : FIXTURES;
  const jobs = Math.max(1, Number(process.env.STRATA_EQ_JOBS ?? 2));
  const results = new Map<string, FixtureResult>();
  const home = mkdtempSync(join(tmpdir(), "strata-eq-home-"));
  let project: Promise<string> | undefined;
  const builds = new Map<string, Promise<FixtureResult>>();
  const build = (f: Fixture): Promise<FixtureResult> => {
    let p = builds.get(f.name);
    if (!p) {
      project ??= prepareProject(fixtures);
      p = project.then((dir) => runFixture(dir, f, home));
      // Awaited by the fixture's own test; a failure is reported there, not as unhandled.
      p.catch(() => undefined);
      builds.set(f.name, p);
    }
    return p;
  };

  afterAll(() => {
    if (results.size) console.log(`\n${formatTable(fixtures.flatMap((f) => results.get(f.name) ?? []))}\n`);
  });

  test("there are at least 25 fixtures", () => {
    expect(FIXTURES.length).toBeGreaterThanOrEqual(25);
  });

  fixtures.forEach((f, i) => {
    test(
      `${f.name}: ${f.what}`,
      async ({ task }) => {
        // Start the next fixtures that will run (not those a -t filter skips) before waiting.
        const siblings = task.suite?.tasks ?? [];
        for (const next of fixtures.slice(i + 1)) {
          if (builds.size >= i + jobs) break;
          if (siblings.find((t) => t.name.startsWith(`${next.name}: `))?.mode === "run") build(next);
        }
        const r = await build(f);
        results.set(f.name, r);
        const problems = r.error || r.differences.length ? formatDifferences(r) : "";
        expect(problems, `${f.name} differs:\n${problems}`).toBe("");
        expect(r.paths).toBeGreaterThan(0);
      },
      FIXTURE_MS,
    );
  });

  const pair = ["copy-file", "copy-parents"].map((name) => fixtures.find((f) => f.name === name));
  test.skipIf(pair.includes(undefined))("the comparison sees a difference: one fixture's native image against another's docker image", async () => {
    const [a, b] = pair as [Fixture, Fixture];
    for (const f of [a, b]) expect((await build(f)).error, `${f.name} must have built`).toBeUndefined();
    const out = mkdtempSync(join(tmpdir(), "strata-eq-neg-"));
    docker(["save", "-o", join(out, "x.tar"), imageTag(a, "native"), imageTag(b, "docker")]);
    const diffs = diffImages(await flattenSaved(join(out, "x.tar"), imageTag(a, "native")), await flattenSaved(join(out, "x.tar"), imageTag(b, "docker")));
    expect(diffs.map((d) => d.path)).toEqual(["/app", "/app/a.txt", "/etc/app", "/etc/app/conf.d", "/etc/app/conf.d/x.conf", "/opt", "/opt/lib", "/opt/lib/src", "/opt/lib/src/one.txt", "/opt/lib/src/skip.md", "/opt/lib/src/two.txt"]);
    rmSync(out, { recursive: true, force: true });
  }, FIXTURE_MS);
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
