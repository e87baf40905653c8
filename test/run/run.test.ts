import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { busyboxLayout } from "../helpers/busybox.ts";
import { scratchProject, STRATA_BIN, strata, strataAsync } from "../helpers/cli.ts";
import { docker, dockerAvailable, DOCKER } from "../helpers/docker.ts";
import { isRoot, missing } from "../helpers/requires.ts";
import { hasScript, leftovers, mountsUnder, pidsOf, processesUsing, sh, start, until } from "./helpers.ts";

const IMAGE = "strata-run-test/app:1";

const APP = `import { from, ociLayout } from "@strata/core";
export default from(ociLayout("./busybox"))
  .run("mkdir -p /www && echo hello-from-the-container > /www/index.html")
  .env("GREETING", "hi from the image")
  .workdir("/www")
  .expose(8080)
  .cmd(["sh", "-c", "echo $GREETING; pwd"]);
`;

describe.skipIf(missing({ root: isRoot }))("strata run: a container from an image, as docker run", () => {
  let dir: string;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let dockerToo = false;
  const run = (args: readonly string[], input?: string) => strata(["run", ...args], { cwd: dir, env, ...(input !== undefined ? { input } : {}) });
  const drun = (args: readonly string[], input?: string) => {
    // The daemon is shared and busy: a failure of dockerd itself (not of the container) is retried once.
    for (let attempt = 0; ; attempt++) {
      ensureDockerImage();
      const r = spawnSync(DOCKER, ["run", "--rm", ...args], { encoding: "utf8", input: input ?? "" });
      if (attempt === 0 && r.stderr.includes("Error response from daemon") && !args.includes("no-such-command")) continue;
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    }
  };

  /** dockerd is shared: if someone else's cleanup removed the test image, it is loaded again. */
  const ensureDockerImage = () => {
    if (spawnSync(DOCKER, ["image", "inspect", IMAGE], { stdio: "ignore" }).status === 0) return;
    expect(strata(["build", "app.image.ts", "-t", IMAGE, "--progress", "quiet", "--load"], { cwd: dir, env }).code).toBe(0);
  };

  beforeAll(async () => {
    dir = scratchProject({ "app.image.ts": APP });
    await busyboxLayout(dir);
    home = mkdtempSync(join(tmpdir(), "strata-run-home-"));
    env = { STRATA_HOME: home };
    // docker is part of the acceptance: under CI its absence fails the suite instead of skipping the comparison.
    dockerToo = !missing({ dockerd: dockerAvailable() });
    const b = strata(["build", "app.image.ts", "-t", IMAGE, "--progress", "quiet", ...(dockerToo ? ["--load"] : [])], { cwd: dir, env });
    expect(b.stderr).not.toContain("error");
    expect(b.code).toBe(0);
  });

  afterAll(() => {
    if (dockerToo) spawnSync(DOCKER, ["rmi", "-f", IMAGE], { stdio: "ignore" });
    // Nothing of any test stays mounted or running, and the store keeps no container state.
    expect(mountsUnder(home)).toEqual([]);
    expect(leftovers(home)).toEqual([]);
    expect(processesUsing(home)).toEqual([]);
    rmSync(home, { recursive: true, force: true });
  });

  test("the image's Cmd, Env and WorkingDir apply; a command replaces Cmd (docker's argv: everything after IMAGE)", () => {
    const r = run([IMAGE]);
    expect(r.stderr).toContain("the image exposes 8080/tcp");
    expect([r.code, r.stdout]).toEqual([0, "hi from the image\n/www\n"]);
    const c = run([IMAGE, "sh", "-c", "echo $GREETING; ls -d /www"]);
    expect(c.stdout).toBe("hi from the image\n/www\n");
    if (dockerToo) {
      expect(drun([IMAGE]).stdout).toBe(r.stdout);
      expect(drun([IMAGE, "sh", "-c", "echo $GREETING; ls -d /www"]).stdout).toBe(c.stdout);
    }
  });

  test("-i forwards piped stdin byte for byte (and closes it at EOF); without -i stdin is empty", () => {
    const text = "line one\nline two\r\nno newline at the end";
    const r = run(["-i", IMAGE, "sh", "-c", "cat; echo; echo done"], text);
    expect([r.code, r.stdout]).toEqual([0, `${text}\ndone\n`]);
    const none = run([IMAGE, "sh", "-c", "cat | wc -c"], "ignored");
    expect(none.stdout.trim()).toBe("0");
    if (dockerToo) {
      expect(drun(["-i", IMAGE, "sh", "-c", "cat; echo; echo done"], text).stdout).toBe(r.stdout);
      expect(drun([IMAGE, "sh", "-c", "cat | wc -c"], "ignored").stdout.trim()).toBe("0");
    }
  });

  test("-t gives the container a real terminal (under script), with the window size and TERM; -it carries typed input", () => {
    if (missing({ "util-linux script": hasScript() })) return;
    const inner = "test -t 0 && test -t 1 && echo is-a-tty; tty; stty size; echo TERM=$TERM";
    const cmd = (bin: string) => `stty cols 91 rows 17; ${bin} ${IMAGE} sh -c ${sh(inner)}`;
    const viaScript = (c: string, input = "") => spawnSync("script", ["-q", "-e", "-c", c, "/dev/null"], { encoding: "utf8", input, env: { ...process.env, ...env }, cwd: dir });
    const s = viaScript(cmd(`${process.execPath} ${STRATA_BIN} run -t`));
    expect(s.status).toBe(0);
    expect(s.stdout.replace(/\r/g, "")).toMatch(/is-a-tty\n\/dev\/pts\/\d+\n17 91\nTERM=xterm\n/);
    const typed = viaScript(`${process.execPath} ${STRATA_BIN} run -it ${IMAGE} sh`, "echo typed-$((6*7))\nexit 3\n");
    expect(typed.stdout).toContain("typed-42");
    expect(typed.status).toBe(3);
    // Without a terminal on stdin, -it is refused as docker refuses it.
    const notty = run(["-it", IMAGE, "true"]);
    expect([notty.code, notty.stderr]).toEqual([2, expect.stringContaining("the input device is not a TTY")]);
    if (dockerToo) {
      ensureDockerImage();
      const d = viaScript(cmd(`${DOCKER} run --rm -t`));
      // docker -t without -i leaves the pty at 0x0 (its CLI resizes only an attached stdin): size not compared.
      expect(d.stdout.replace(/\r/g, "")).toMatch(/^is-a-tty\n\/dev\/pts\/\d+\n(.*\n)?TERM=xterm\n/);
    }
  });

  test("-e, --env-file and -e KEY (from this environment) set variables; later ones win", () => {
    writeFileSync(join(dir, "vars.env"), "# comment\nFROM_FILE=file value\nOVERRIDDEN=from file\nPASSED\n");
    const args = ["--env-file", "vars.env", "-e", "OVERRIDDEN=from -e", "-e", "GREETING=replaced", IMAGE, "sh", "-c", 'echo "$FROM_FILE|$OVERRIDDEN|$GREETING|$PASSED"'];
    const r = strata(["run", ...args], { cwd: dir, env: { ...env, PASSED: "from the host" } });
    expect(r.stdout).toBe("file value|from -e|replaced|from the host\n");
    if (dockerToo) {
      ensureDockerImage();
      const d = spawnSync(DOCKER, ["run", "--rm", ...args.map((a) => (a === "vars.env" ? join(dir, "vars.env") : a))], { encoding: "utf8", env: { ...process.env, PASSED: "from the host" } });
      expect(d.stdout).toBe(r.stdout);
    }
  });

  test("-v: a file written in the container appears on the host; :ro refuses writes; --mount tmpfs", () => {
    const vol = join(dir, "vol");
    mkdirSync(vol, { recursive: true });
    const w = run(["-v", `${vol}:/data`, IMAGE, "sh", "-c", "echo written-inside > /data/out.txt"]);
    expect(w.code).toBe(0);
    expect(readFileSync(join(vol, "out.txt"), "utf8")).toBe("written-inside\n");
    const ro = run(["-v", `${vol}:/data:ro`, IMAGE, "sh", "-c", "cat /data/out.txt; echo more > /data/other.txt"]);
    expect(ro.stdout).toBe("written-inside\n");
    expect(ro.code).not.toBe(0);
    expect(ro.stderr).toContain("Read-only file system");
    expect(existsSync(join(vol, "other.txt"))).toBe(false);
    const t = run(["--mount", "type=tmpfs,target=/scratch,tmpfs-size=1m", IMAGE, "sh", "-c", "grep ' /scratch ' /proc/mounts"]);
    expect(t.stdout).toMatch(/^tmpfs \/scratch tmpfs rw,.*size=1024k/);
    // A name is a docker named volume, which strata does not have: refused, nothing created.
    const named = run(["-v", "myvol:/data", IMAGE, "true"]);
    expect([named.code, named.stderr]).toEqual([125, expect.stringContaining("STRATA_RUN_BAD_VOLUME")]);
    expect(existsSync(join(dir, "myvol"))).toBe(false);
    if (dockerToo) {
      rmSync(join(vol, "out.txt"));
      expect(drun(["-v", `${vol}:/data`, IMAGE, "sh", "-c", "echo written-inside > /data/out.txt"]).code).toBe(0);
      expect(readFileSync(join(vol, "out.txt"), "utf8")).toBe("written-inside\n");
      const d = drun(["-v", `${vol}:/data:ro`, IMAGE, "sh", "-c", "cat /data/out.txt; echo more > /data/other.txt"]);
      expect([d.code, d.stdout]).toEqual([ro.code, ro.stdout]);
      expect(d.stderr).toContain("Read-only file system");
    }
  });

  test("-u and -w and --entrypoint override the image", () => {
    const r = run(["-u", "app", "-w", "/tmp/new", "--entrypoint", "sh", IMAGE, "-c", "id -u; id -g; pwd"]);
    expect(r.stdout).toBe("1000\n1000\n/tmp/new\n");
    const g = run(["-u", "1000:50", IMAGE, "id"]);
    expect(g.stdout).toMatch(/^uid=1000\(app\) gid=50\(staff\)/);
    if (dockerToo) {
      expect(drun(["-u", "app", "-w", "/tmp/new", "--entrypoint", "sh", IMAGE, "-c", "id -u; id -g; pwd"]).stdout).toBe(r.stdout);
      // Supplementary groups differ (runc adds the explicit gid; docker's containerd does not), so only uid and gid are compared.
      expect(drun(["-u", "1000:50", IMAGE, "id"]).stdout).toMatch(/^uid=1000\(app\) gid=50\(staff\)/);
    }
  });

  test("exit statuses: the container's own, 127 for a missing command", () => {
    expect(run([IMAGE, "sh", "-c", "exit 7"]).code).toBe(7);
    const missing = run([IMAGE, "no-such-command"]);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain("STRATA_RUN_EXEC_FAILED");
    if (dockerToo) {
      expect(drun([IMAGE, "sh", "-c", "exit 7"])).toMatchObject({ code: 7, stderr: "" });
      expect(drun([IMAGE, "no-such-command"]).code).toBe(127);
    }
  });

  test("SIGINT is forwarded to PID 1 (its trap runs; 130), SIGKILL of the container is 137", async () => {
    // Sleeps with numbers no other process on this shared machine uses mark the containers.
    const n = 200_000 + (process.pid % 100_000) * 3;
    const [s0, s1, s2] = [String(n), String(n + 1), String(n + 2)];
    const trap = ["sh", "-c", `trap "echo got-INT; exit 130" INT; echo ready; sleep ${s0} & wait`];
    const p = start("strata", ["run", IMAGE, ...trap], { cwd: dir, env });
    await until(() => pidsOf(["sleep", s0]).length > 0, 20_000, "the container to start");
    p.kill("SIGINT");
    const r = await p.done;
    expect([r.code, r.stdout]).toEqual([130, "ready\ngot-INT\n"]);

    const k = start("strata", ["run", IMAGE, "sleep", s1], { cwd: dir, env });
    await until(() => pidsOf(["sleep", s1]).length > 0, 20_000, "the container to start");
    for (const pid of pidsOf(["sleep", s1])) process.kill(pid, "SIGKILL");
    expect((await k.done).code).toBe(137);

    // A PID 1 without a handler ignores SIGINT (as in docker); the third Ctrl-C kills it.
    const stubborn = start("strata", ["run", IMAGE, "sleep", s2], { cwd: dir, env });
    await until(() => pidsOf(["sleep", s2]).length > 0, 20_000, "the container to start");
    for (let i = 0; i < 3; i++) {
      stubborn.kill("SIGINT");
      await new Promise((res) => setTimeout(res, 300));
    }
    const s = await stubborn.done;
    expect(s.code).toBe(137);
    expect(s.stderr).toContain("third interrupt");
    expect(pidsOf(["sleep", s0]).concat(pidsOf(["sleep", s1]), pidsOf(["sleep", s2]))).toEqual([]);

    if (dockerToo) {
      ensureDockerImage();
      const d = start("docker", ["run", "--rm", IMAGE, ...trap]);
      await until(() => pidsOf(["sleep", s0]).length > 0, 60_000, "the docker container to start");
      d.kill("SIGINT");
      expect(await d.done).toMatchObject({ code: 130, stdout: "ready\ngot-INT\n" });
      const name = `strata-run-test-${process.pid}`;
      const dk = start("docker", ["run", "--rm", "--name", name, IMAGE, "sleep", s1]);
      await until(() => pidsOf(["sleep", s1]).length > 0, 60_000, "the docker container to start");
      docker(["kill", "-s", "KILL", name]);
      expect((await dk.done).code).toBe(137);
    }
  });

  test("-p: an HTTP server in the container answers on the published port; the host's loopback is unreachable unless --network host", async () => {
    const port = await freePort();
    const server = ["sh", "-c", "trap 'exit 0' TERM; busybox httpd -f -p 8080 -h /www & wait"];
    const get = async (p: number) => {
      const res = await fetch(`http://127.0.0.1:${p}/index.html`, { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
      return res ? await res.text() : undefined;
    };
    const serve = async (bin: "strata" | "docker", args: readonly string[]) => {
      const p = start(bin, args, { cwd: dir, env });
      let body: string | undefined;
      const deadline = Date.now() + 20_000;
      while (body === undefined && Date.now() < deadline) {
        body = await get(port);
        if (body === undefined) await new Promise((r) => setTimeout(r, 200));
      }
      p.kill("SIGTERM");
      return { body, exit: await p.done };
    };
    const s = await serve("strata", ["run", "-p", `127.0.0.1:${port}:8080`, IMAGE, ...server]);
    expect(s.body).toBe("hello-from-the-container\n");
    // SIGTERM reached PID 1's trap: a clean exit, and the port is free again.
    expect(s.exit.code).toBe(0);
    expect(await get(port)).toBeUndefined();

    const hostServer = createHttpServer((_req, res) => res.end("host-loopback"));
    await new Promise<void>((r) => hostServer.listen(0, "127.0.0.1", r));
    const hostPort = (hostServer.address() as AddressInfo).port;
    try {
      const probe = ["sh", "-c", `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 3 127.0.0.1 ${hostPort} | tail -1`];
      const isolated = strataAsync(["run", IMAGE, ...probe], { cwd: dir, env });
      const shared = strataAsync(["run", "--network", "host", IMAGE, ...probe], { cwd: dir, env });
      expect((await isolated).stdout).toBe("");
      expect((await shared).stdout).toBe("host-loopback");
    } finally {
      hostServer.close();
    }
    if (dockerToo) {
      ensureDockerImage();
      const d = await serve("docker", ["run", "--rm", "-p", `127.0.0.1:${port}:8080`, IMAGE, ...server]);
      expect(d.body).toBe(s.body);
      expect(d.exit.code).toBe(0);
    }
  });

  test("--network none: the container has only lo (as under docker); the default network has a resolver", () => {
    const probe = ["sh", "-c", "ip -o link | cut -d: -f2 | tr -d ' '"];
    const none = run(["--network", "none", IMAGE, ...probe]);
    expect(none.stdout).toBe("lo\n");
    expect(run([IMAGE, "sh", "-c", "grep -c nameserver /etc/resolv.conf"]).stdout.trim()).not.toBe("0");
    if (dockerToo) expect(drun(["--network", "none", IMAGE, ...probe]).stdout).toBe(none.stdout);
  });

  test("each run starts from the image: a file written in one run is absent in the next; --name keeps it until strata rm", () => {
    expect(run([IMAGE, "sh", "-c", "echo x > /www/left-behind && ls /www"]).stdout).toBe("index.html\nleft-behind\n");
    const next = run([IMAGE, "ls", "/www"]);
    expect(next.stdout).toBe("index.html\n");
    const name = "strata-run-kept";
    expect(run(["--name", name, IMAGE, "sh", "-c", "echo kept > /kept"]).code).toBe(0);
    expect(readFileSync(join(home, "v1", "containers", name, "upper", "kept"), "utf8")).toBe("kept\n");
    const again = run(["--name", name, IMAGE, "true"]);
    expect([again.code, again.stderr]).toEqual([125, expect.stringContaining("STRATA_CONTAINER_NAME_IN_USE")]);
    expect(strata(["rmi", IMAGE], { cwd: dir, env }).stderr).toContain("STRATA_IMAGE_IN_USE");
    expect(strata(["rm", name], { cwd: dir, env }).code).toBe(0);
    expect(existsSync(join(home, "v1", "containers", name))).toBe(false);
    expect(run(["--rm", "--name", name, IMAGE, "true"]).code).toBe(0);
    expect(existsSync(join(home, "v1", "containers", name))).toBe(false);
  });

  test("flags docker has but strata run does not are coded usage errors", () => {
    const d = run(["-d", IMAGE]);
    expect([d.code, d.stderr]).toEqual([2, expect.stringContaining("--detach is not supported")]);
    const p = run(["--platform", "linux/s390x", IMAGE, "true"]);
    expect([p.code, p.stderr]).toEqual([2, expect.stringContaining("only this host's platform")]);
    expect(run(["--platform", `linux/${process.arch === "arm64" ? "arm64" : "amd64"}`, IMAGE, "true"]).code).toBe(0);
    const bad = run(["-p", "80", IMAGE, "true"]);
    expect([bad.code, bad.stderr]).toEqual([125, expect.stringContaining("STRATA_NET_BAD_PORT")]);
    const none = run(["--network", "none", "-p", "8080:80", IMAGE, "true"]);
    expect([none.code, none.stderr]).toEqual([125, expect.stringContaining("STRATA_RUN_BAD_PUBLISH")]);
  });
});

/** A TCP port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}
