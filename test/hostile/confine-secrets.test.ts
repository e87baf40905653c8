import { spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { STRATA_BIN } from "../helpers/cli.ts";
import { isRoot, missing } from "../helpers/requires.ts";
import { EXECUTORS, filesContaining, scratch, stepGate, type Scratch } from "./confine-helpers.ts";

const MEMORY = "/dev/shm";

/**
 * Secrets never reach a disk in clear: not the step's log in the store (masked, every line of a
 * multi-line secret), not the terminal, not the runtime bundle or sandbox script (they live on
 * a memory file system and are removed), and their files are gone after the build.
 */
describe.skipIf(missing({ root: isRoot })).each(EXECUTORS)("secrets stay off the disk (--executor %s)", (executor) => {
  let s: Scratch;
  let lines: string[];
  const env = `env-secret-${Math.random().toString(36).slice(2)}-value`;
  beforeAll(async () => {
    s = await scratch();
    lines = [1, 2, 3].map((i) => `multi-line-secret-${i}-${Math.random().toString(36).slice(2)}`);
    writeFileSync(join(s.context, "key.pem"), `-----BEGIN KEY-----\n${lines.join("\n")}\n-----END KEY-----\n`);
  });
  afterAll(() => s?.cleanup());

  const secretArgs = () => ["--secret", "id=key,src=key.pem", "--secret", `id=tok,env=CONFINE_TOKEN`];
  const allSecrets = () => [...lines, env];

  test("a step printing a multi-line file secret and an env secret: masked on the terminal and in the 0600 log, nowhere in the store", () => {
    const r = s.build(
      "FROM base\nRUN --mount=type=secret,id=key --mount=type=secret,id=tok,env=TOK cat /run/secrets/key; echo \"token=$TOK\"; env | grep TOK; echo done\n",
      executor,
      secretArgs(),
      { CONFINE_TOKEN: env },
    );
    expect(r.code, r.stderr).toBe(0);
    const terminal = r.stdout + r.stderr;
    for (const l of allSecrets()) expect(terminal).not.toContain(l);
    expect(terminal).toContain("token=****");
    expect(terminal.match(/│ \*\*\*\*$/gm)?.length).toBeGreaterThanOrEqual(3);
    for (const l of allSecrets()) expect(filesContaining(s.home, l)).toEqual([]);
    const logs = join(s.home, "v1", "logs");
    const log = readdirSync(logs).map((n) => join(logs, n)).find((p) => readFileSync(p, "utf8").includes("token=****"));
    expect(log).toBeDefined();
    expect(statSync(log!).mode & 0o777).toBe(0o600);
    expect(statSync(join(s.home, "v1")).mode & 0o777).toBe(0o700);
    for (const l of allSecrets()) expect(filesContaining(MEMORY, l)).toEqual([]);
  });

  test("a failing step's error shows the last lines masked", () => {
    const r = s.build("FROM base\nRUN --mount=type=secret,id=key cat /run/secrets/key; exit 3\n", executor, secretArgs(), { CONFINE_TOKEN: env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_RUN_FAILED]");
    for (const l of allSecrets()) expect(r.stdout + r.stderr).not.toContain(l);
    for (const l of allSecrets()) expect(filesContaining(s.home, l)).toEqual([]);
  });

  test("while the step runs, the env secret is on no disk: not in the store, not in the bundle or script (they are in memory), and gone afterwards", async () => {
    // The step waits at a gate the test opens once it has looked, so it cannot end before the checks.
    const gate = stepGate(s.home);
    writeFileSync(join(s.context, "Dockerfile"), `FROM base\nRUN --mount=type=secret,id=tok,env=TOK --mount=type=secret,id=key ${gate.mount} sh -c 'echo "run-$((40+2))"; ${gate.wait}; [ -e /gate/go ]'\n`);
    const child = spawn(process.execPath, [STRATA_BIN, "build", "Dockerfile", "--image", "base=oci-layout:./busybox", "--progress", "plain", "--no-cache", "--executor", executor, ...secretArgs()], {
      cwd: s.context,
      env: { ...process.env, NO_COLOR: "1", STRATA_HOME: s.home, CONFINE_TOKEN: env },
    });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number>((res) => child.on("close", (c) => res(c ?? -1)));
    try {
      const deadline = Date.now() + 30_000;
      while (!out.includes("run-42") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(out).toContain("run-42");
      // On disk (the store) nothing; in memory the bundle or script and the secret file, private to root.
      expect(filesContaining(s.home, env)).toEqual([]);
      expect(filesContaining(s.home, lines[0]!)).toEqual([]);
      const inMemory = [...filesContaining(MEMORY, env), ...filesContaining(MEMORY, lines[0]!)];
      expect(inMemory.length).toBeGreaterThan(0);
      for (const f of inMemory) expect(statSync(join(f, "..")).mode & 0o077).toBe(0);
    } finally {
      gate.open();
    }
    expect(await exited, out).toBe(0);
    for (const l of allSecrets()) expect(filesContaining(MEMORY, l)).toEqual([]);
    for (const l of allSecrets()) expect(filesContaining(s.home, l)).toEqual([]);
  });

  test("an env= that is not a shell variable name is refused at its line (it could only be passed on a command line)", () => {
    const r = s.build("FROM base\nRUN --mount=type=secret,id=tok,env=a.b true\n", executor, secretArgs(), { CONFINE_TOKEN: env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_SECRET_ENV_NAME]");
    expect(r.stderr).toMatch(/Dockerfile:2:\d+/);
    expect(r.stdout + r.stderr).not.toContain(env);
  });
});
