import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:http";
import { haveStaticBusybox } from "../../packages/engine/test/helpers/busybox-rootfs.ts";
import { haveTool } from "../../packages/engine/test/helpers/exec.ts";
import { isRoot } from "../helpers/requires.ts";

/**
 * What the network and security suites need here, each with whether this host has it: root, a
 * static busybox and the host tools they name. Pass it to missing(): under CI=true a missing
 * piece is a failure, never a silent skip.
 */
export function netsecNeeds(tools: readonly string[]): Record<string, boolean> {
  return { root: isRoot, "busybox-static": haveStaticBusybox(), ...Object.fromEntries(tools.map((t) => [t, haveTool(t)])) };
}

/** An HTTP server answering `body`, counting the requests it got (to prove none arrived). */
export async function httpServer(host: string, body: string): Promise<{ port: number; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server: Server = createServer((_req, res) => {
    hits++;
    res.end(body);
  });
  server.on("connection", () => hits++);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as { port: number }).port;
  return { port, hits: () => hits, close: () => new Promise((r) => server.close(() => r())) };
}

/**
 * A network namespace standing in for "another machine": a veth pair, 10.200.N.1/30 on the
 * host side and 10.200.N.2/30 inside, with an HTTP server (node) on 10.200.N.2:8080 that answers
 * `body`. Reached from a step only through the user-mode stack and the host's routing.
 */
export async function outsideHost(tag: string, n: number, body: string): Promise<{ ip: string; port: number; netns: string; close: () => void }> {
  const ns = `strata-${tag}`;
  const hostIf = `sv${tag}h`.slice(0, 15);
  const peerIf = `sv${tag}p`.slice(0, 15);
  const ip = `10.200.${n}.2`;
  const run = (...a: string[]) => {
    try {
      execFileSync("ip", a, { stdio: ["ignore", "ignore", "pipe"] });
    } catch (e) {
      throw new Error(`ip ${a.join(" ")}: ${String((e as { stderr?: Buffer }).stderr ?? e)}`);
    }
  };
  const cleanup = () => {
    for (const a of [["link", "del", hostIf], ["netns", "del", ns]]) {
      try {
        run(...a);
      } catch {
        // not there
      }
    }
  };
  cleanup();
  run("netns", "add", ns);
  run("link", "add", hostIf, "type", "veth", "peer", "name", peerIf);
  run("link", "set", peerIf, "netns", ns);
  run("addr", "add", `10.200.${n}.1/30`, "dev", hostIf);
  run("link", "set", hostIf, "up");
  run("-n", ns, "addr", "add", `${ip}/30`, "dev", peerIf);
  run("-n", ns, "link", "set", peerIf, "up");
  run("-n", ns, "link", "set", "lo", "up");
  const server: ChildProcess = spawn(
    "ip",
    ["netns", "exec", ns, process.execPath, "-e", `require("http").createServer((q,s)=>s.end(${JSON.stringify(body)})).listen(8080,${JSON.stringify(ip)},()=>console.log("up"))`],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise<void>((resolve, reject) => {
    server.stdout!.once("data", () => resolve());
    server.once("exit", (c) => reject(new Error(`the outside server exited (${c})`)));
  });
  return {
    ip,
    port: 8080,
    netns: ns,
    close: () => {
      server.kill("SIGKILL");
      cleanup();
    },
  };
}
