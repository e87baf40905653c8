import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBusyboxRootfs, tempDir } from "../../packages/engine/test/helpers/busybox-rootfs.ts";
import { runCaptured, testExecutors } from "../../packages/engine/test/helpers/exec.ts";
import { missing } from "../helpers/requires.ts";
import { httpServer, netsecNeeds, outsideHost } from "./netsec-helpers.ts";

// What a RUN step's network reaches, per executor: the outside (another host, DNS) through the
// user-mode stack, never the host's loopback; `none` reaches nothing.
const skip = missing(netsecNeeds(["ip", "slirp4netns", "nsenter", "runc"]));
const tmp = tempDir("strata-netsec-");
const executors = skip ? [] : testExecutors(join(tmp.path, "state"));
let outside: Awaited<ReturnType<typeof outsideHost>> | undefined;
let loopback: Awaited<ReturnType<typeof httpServer>> | undefined;
const tag = `n${process.pid % 100000}`;

beforeAll(async () => {
  if (skip) return;
  outside = await outsideHost(tag, 1 + (process.pid % 250), "hello from outside");
  loopback = await httpServer("127.0.0.1", "host loopback secret");
});
afterAll(async () => {
  outside?.close();
  await loopback?.close();
  tmp.cleanup();
});

describe.skipIf(skip).each(executors.map((ex) => ({ name: ex.name, ex })))("$name executor", ({ ex }) => {
  const root = makeBusyboxRootfs(join(tmp.path, `root-${ex.name}`));
  const sh = (script: string, network: "default" | "none" | "host" = "default") => runCaptured(ex, root, ["sh", "-c", script], { network });

  it("reaches another host through the user-mode stack, but not a service on the host's 127.0.0.1", async () => {
    const before = loopback!.hits();
    const r = await sh(
      [
        `timeout 5 wget -q -O- http://${outside!.ip}:${outside!.port}/ && echo`,
        // 10.0.2.2 is where slirp would map the host's loopback; the step's own 127.0.0.1 is its own.
        `timeout 5 wget -q -O- http://10.0.2.2:${loopback!.port}/ || echo gateway-refused`,
        `timeout 5 wget -q -O- http://127.0.0.1:${loopback!.port}/ || echo loopback-refused`,
      ].join("; "),
    );
    expect(r.stdout).toEqual(["hello from outside", "gateway-refused", "loopback-refused"]);
    expect(r.stderr.join("\n")).not.toContain("Segmentation");
    expect(r.stdout.join("\n")).not.toContain("host loopback secret");
    expect(loopback!.hits()).toBe(before);
  });

  it("leaves the host's mounts alone (slirp4netns's own sandbox must not unmount /run/netns entries)", async () => {
    for (let i = 0; i < 3; i++) expect((await sh("true")).exitCode).toBe(0);
    expect(readFileSync("/proc/self/mountinfo", "utf8")).toContain(`/run/netns/${outside!.netns} `);
    expect(() => execFileSync("ip", ["-n", outside!.netns, "link", "show", "lo"], { stdio: "pipe" })).not.toThrow();
  });

  it("resolves names through the stack's DNS forwarder, as the host resolves them", async () => {
    const name = "registry.npmjs.org";
    const hostAnswer = execFileSync("getent", ["ahostsv4", name], { encoding: "utf8" }).split(/\s+/)[0]!;
    const r = await sh(`cat /etc/resolv.conf; nslookup ${name}`);
    expect(r.stdout.filter((l) => l.startsWith("nameserver"))).toEqual(["nameserver 10.0.2.3"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.join("\n")).toMatch(new RegExp(`Address:\\s*${hostAnswer.replace(/\./g, "\\.")}`));
  });

  it("network none has only lo and reaches nothing", async () => {
    const r = await sh(`ls /sys/class/net; timeout 5 wget -q -O- http://${outside!.ip}:${outside!.port}/ || echo unreachable`, "none");
    expect(r.stdout).toEqual(["lo", "unreachable"]);
  });

  it("network host shares the host's interfaces (an entitlement the build must grant)", async () => {
    const r = await sh("ls /sys/class/net", "host");
    expect(r.stdout.sort()).toEqual(execFileSync("ls", ["/sys/class/net"], { encoding: "utf8" }).trim().split("\n").sort());
  });
});

describe.skipIf(skip)("startNetwork (the module strata run uses)", () => {
  it("forwards a host port into the namespace, and closing leaves no process behind", async () => {
    const { startNetwork, parsePortMapping } = await import("../../packages/engine/src/executor/network/index.ts");
    const { spawn } = await import("node:child_process");
    const { mkdtempSync } = await import("node:fs");
    const probe = await httpServer("127.0.0.1", "");
    const port = probe.port;
    await probe.close();
    const net = await startNetwork({ mode: "default", dir: mkdtempSync(join(tmp.path, "fwd-")), ports: parsePortMapping(`127.0.0.1:${port}:8080`) });
    const server = spawn("nsenter", [`--net=${net.netnsPath}`, process.execPath, "-e", `require("http").createServer((q,s)=>s.end("inside")).listen(8080,()=>console.log("up"))`], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      await new Promise((r) => server.stdout!.once("data", r));
      const body = await (await fetch(`http://127.0.0.1:${port}/`)).text();
      expect(body).toBe("inside");
    } finally {
      server.kill("SIGKILL");
      await net.close();
    }
    const holderPid = Number(/\/proc\/(\d+)\//.exec(net.netnsPath!)![1]);
    expect(() => process.kill(holderPid, 0)).toThrow();
    expect(execFileSync("sh", ["-c", `pgrep -f "[s]lirp4netns.*${holderPid} tap0" || true`], { encoding: "utf8" }).trim()).toBe("");
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });
});
