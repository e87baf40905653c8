import { readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { isRoot, missing } from "../helpers/requires.ts";
import { EXECUTORS, filesContaining, mountsUnder, scratch, shadowLines, type Scratch } from "./confine-helpers.ts";
import { createServer } from "node:net";
import tar from "tar-stream";
import { strataAsync, type CliResult } from "../helpers/cli.ts";

/**
 * Hostile Dockerfiles and contexts against both executors: every path a build names (mount
 * sources, cache seeds, secret targets, COPY sources, the working directory) resolves inside its
 * own tree. Each attack asserts the host canary was neither read (its content is absent from the
 * terminal, the store and the image) nor written, and the host's /etc/shadow never shows up.
 */
describe.skipIf(missing({ root: isRoot })).each(EXECUTORS)("confinement of paths (--executor %s)", (executor) => {
  let s: Scratch;
  beforeAll(async () => {
    s = await scratch();
    // The context's own links pointing outside it.
    symlinkSync(s.canary.dir, join(s.context, "out"));
    symlinkSync("../canary", join(s.context, "up"));
    writeFileSync(join(s.context, "tok"), "a-secret-for-the-target-test\n");
  });
  afterAll(() => s?.cleanup());

  /** The canary's content reached nothing; the canary directory is as it was; /etc/shadow did not leak. */
  function assertContained(r: CliResult, before: string, extraOutputs: string[] = []): void {
    const terminal = r.stdout + r.stderr;
    expect(terminal).not.toContain(s.canary.content);
    for (const l of shadowLines()) expect(terminal).not.toContain(l);
    expect(filesContaining(s.home, [s.canary.content, ...shadowLines()])).toEqual([]);
    for (const o of extraOutputs) expect(readFileSync(o).includes(s.canary.content)).toBe(false);
    expect(s.canary.state()).toBe(before);
    expect(mountsUnder(s.home)).toEqual([]);
  }

  const EVIL = "FROM base AS evil\nRUN ln -s / /host && ln -s /proc/1/root /p\n";

  test("the issue's exploit: bind mounts from a stage's symlink to / reach the stage's root, never the host's", () => {
    const before = s.canary.state();
    const cd = s.canary.dir;
    // Read: the stage's /etc is what /host/etc names; it has no shadow file.
    const read = s.build(`${EVIL}FROM base\nRUN --mount=type=bind,from=evil,source=/host/etc,target=/he cat /he/shadow /he/passwd || echo "no-shadow-$((6*7))"\n`, executor);
    expect(read.code, read.stderr).toBe(0);
    expect(read.stdout + read.stderr).toContain("no-shadow-42");
    expect(read.stdout + read.stderr).toContain("app:x:1000:1000");
    assertContained(read, before);
    // Read and write a host directory through the link: it does not exist inside the stage.
    for (const df of [
      `${EVIL}FROM base\nRUN --mount=type=bind,from=evil,source=/host${cd},target=/he cat /he/canary.txt\n`,
      `${EVIL}FROM base\nRUN --mount=type=bind,from=evil,source=/host${cd},target=/ht,rw touch /ht/x\n`,
      `${EVIL}FROM base\nRUN --mount=type=bind,from=evil,source=/host/run,target=/hr ls /hr/docker.sock\n`,
    ]) {
      const r = s.build(df, executor);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("error[STRATA_RUN_MOUNT_SOURCE]");
      expect(r.stderr).toContain("--> Dockerfile:4:1");
      assertContained(r, before);
    }
  });

  test("a rw bind mount of a stage's /host/tmp writes into the stage's copy, never the host's /tmp", () => {
    const before = s.canary.state();
    const marker = `strata-confine-${process.pid}-${Date.now()}`;
    const r = s.build(`${EVIL}FROM base\nRUN --mount=type=bind,from=evil,source=/host/tmp,target=/ht,rw touch /ht/${marker} && ls /ht\n`, executor);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(new RegExp(`│ ${marker}$`, "m"));
    expect(() => readFileSync(join("/tmp", marker))).toThrow();
    assertContained(r, before);
  });

  test("`..` in a mount source is clamped at the stage's and the context's root", () => {
    const before = s.canary.state();
    const up = `../../../../../../../..${s.canary.dir}`;
    for (const df of [
      `${EVIL}FROM base\nRUN --mount=type=bind,from=evil,source=${up},target=/m cat /m/canary.txt\n`,
      `FROM base\nRUN --mount=type=bind,source=../canary,target=/m cat /m/canary.txt\n`,
      `FROM base\nRUN --mount=type=bind,source=${up},target=/m cat /m/canary.txt\n`,
    ]) {
      const r = s.build(df, executor);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("error[STRATA_RUN_MOUNT_SOURCE]");
      assertContained(r, before);
    }
  });

  test("links in the context never lead outside it: bind mounts and COPY of them find nothing, COPY . keeps them as links", () => {
    const before = s.canary.state();
    for (const [df, code] of [
      ["FROM base\nRUN --mount=type=bind,source=out,target=/m cat /m/canary.txt\n", "STRATA_RUN_MOUNT_SOURCE"],
      ["FROM base\nRUN --mount=type=bind,source=up/canary.txt,target=/m cat /m\n", "STRATA_RUN_MOUNT_SOURCE"],
      ["FROM base\nRUN --mount=type=bind,source=out,target=/m,rw cat /m/canary.txt\n", "STRATA_RUN_MOUNT_SOURCE"],
      ["FROM base\nCOPY out/ /c/\n", "STRATA_COPY_NO_MATCH"],
      ["FROM base\nCOPY up/canary.txt /c\n", "STRATA_COPY_NO_MATCH"],
      [`${EVIL}FROM base\nCOPY --from=evil /host${s.canary.dir}/canary.txt /c\n`, "STRATA_COPY_NO_MATCH"],
    ] as const) {
      const r = s.build(df, executor);
      expect(r.code, df).toBe(1);
      expect(r.stderr).toContain(`error[${code}]`);
      assertContained(r, before);
    }
    const out = join(s.root, "image.tar");
    const all = s.build("FROM base\nCOPY . /all/\nRUN cat /all/out/canary.txt /all/up/canary.txt; readlink /all/out; readlink /all/up\n", executor, ["-o", `type=oci,dest=${out}`]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout + all.stderr).toContain(s.canary.dir);
    assertContained(all, before, [out]);
  });

  test("COPY and ADD destinations through links in the image, and hostile tars, write only into the layer", async () => {
    const before = s.canary.state();
    const tarOf = async (entries: [Parameters<ReturnType<typeof tar.pack>["entry"]>[0], string?][]) => {
      const pack = tar.pack();
      for (const [h, body] of entries) pack.entry(h, body ?? "");
      pack.finalize();
      const chunks: Buffer[] = [];
      for await (const c of pack) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    };
    // Entries that climb with `..` are refused; a link to / planted by the archive is followed inside the destination.
    writeFileSync(join(s.context, "dotdot.tar"), await tarOf([[{ name: `../../../../../..${s.canary.dir}/from-dotdot`, type: "file" }, "x"]]));
    writeFileSync(join(s.context, "link.tar"), await tarOf([[{ name: "root-link", type: "symlink", linkname: "/" }], [{ name: `root-link${s.canary.dir}/through-link`, type: "file" }, "y"]]));
    const bad = s.build("FROM base\nADD dotdot.tar /x/\n", executor);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("error[STRATA_COPY_ARCHIVE_UNSAFE]");
    assertContained(bad, before);
    const r = s.build(
      `FROM base\nRUN ln -s ${s.canary.dir} /d && mkdir -p /u && ln -s / /u/up\nCOPY tok /d/\nCOPY tok /u/up${s.canary.dir}/tok2\nADD link.tar /x/\nRUN ls /d /x${s.canary.dir}; cat /d/canary.txt 2>&1 || echo "no-canary-$((6*7))"\n`,
      executor,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain("no-canary-42");
    expect(r.stdout + r.stderr).toMatch(/│ through-link$/m);
    expect(r.stdout + r.stderr).toMatch(/│ tok2$/m);
    assertContained(r, before);
  });

  test("a cache mount seeded from a stage through a link to / copies nothing of the host into the store", () => {
    const before = s.canary.state();
    const r = s.build(`${EVIL}FROM base\nRUN --mount=type=cache,from=evil,source=/host${s.canary.dir},target=/cc,id=confine-${executor} cat /cc/canary.txt\n`, executor);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_RUN_MOUNT_SOURCE]");
    assertContained(r, before);
    // A seed through a link that stays inside the stage works.
    const ok = s.build(`FROM base AS seed\nRUN mkdir /data && echo seeded > /data/f && ln -s /data /link\nFROM base\nRUN --mount=type=cache,from=seed,source=/link,target=/cc,id=confine-ok-${executor} cat /cc/f\n`, executor);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout + ok.stderr).toMatch(/│ seeded$/m);
    assertContained(ok, before);
  });

  test("a secret target through a link in the image lands inside the root, not on the host's file", () => {
    const before = s.canary.state();
    const r = s.build(
      `FROM base\nRUN ln -s ${s.canary.dir} /sec\nRUN --mount=type=secret,id=tok,target=/sec/canary.txt cat /sec/canary.txt && ls /sec\n`,
      executor,
      ["--secret", "id=tok,src=tok"],
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain("****");
    expect(r.stdout + r.stderr).not.toContain("a-secret-for-the-target-test");
    assertContained(r, before);
  });

  test("an ssh agent target through a link in the image lands inside the root", async () => {
    const before = s.canary.state();
    const sock = join(s.root, "agent.sock");
    const server = createServer(() => {}).listen(sock);
    await new Promise((r) => server.once("listening", r));
    try {
      writeFileSync(join(s.context, "Dockerfile"), `FROM base\nRUN ln -s ${s.canary.dir} /s\nRUN --mount=type=ssh,target=/s/agent.sock test -S /s/agent.sock && echo "agent-ok-$((6*7))"\n`);
      const r = await strataAsync(
        ["build", "Dockerfile", "--image", "base=oci-layout:./busybox", "--progress", "plain", "--no-cache", "--executor", executor, "--ssh", `default=${sock}`],
        { cwd: s.context, env: { STRATA_HOME: s.home } },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).toContain("agent-ok-42");
      assertContained(r, before);
    } finally {
      server.close();
    }
  });

  test("a working directory and mount targets through links into /proc stay in the step's own root", () => {
    const before = s.canary.state();
    const r = s.build(`${EVIL}WORKDIR /p${s.canary.dir}\nRUN touch pwned; cat canary.txt 2>&1 || echo "no-canary-$((6*7))"; pwd\n`, executor);
    // The directories WORKDIR makes are in the step's root (below its own /proc mount point);
    // runc enters them, the sandbox finds its /proc/1/root/... missing. Either way: contained.
    if (r.code === 0) expect(r.stdout + r.stderr).toContain("no-canary-42");
    else expect(r.stderr).toContain("error[STRATA_RUN_FAILED]");
    assertContained(r, before);
    const t = s.build(`${EVIL}RUN --mount=type=tmpfs,target=/p/x true\n`, executor);
    expect(t.code).toBe(1);
    expect(t.stderr).toContain("error[STRATA_RUN_MOUNT_TARGET]");
    assertContained(t, before);
  });
});
