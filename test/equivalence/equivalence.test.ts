import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { dockerAvailable } from "../helpers/docker.ts";
import { FIXTURES } from "./fixtures.ts";
import { formatDifferences, formatTable, prepareProject, runAll, type FixtureResult } from "./harness.ts";

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

  for (const f of fixtures) {
    test(`${f.name}: ${f.what}`, () => {
      const r = results.get(f.name)!;
      const problems = r.error || r.differences.length ? formatDifferences(r) : "";
      expect(problems, `${f.name} differs:\n${problems}`).toBe("");
      expect(r.paths).toBeGreaterThan(0);
    });
  }
});
