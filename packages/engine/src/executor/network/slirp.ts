import { spawn } from "node:child_process";
import { connect } from "node:net";
import { join } from "node:path";
import { StrataError } from "@strata/graph";
import { HOST_PATH, which } from "../../sandbox-util/command.ts";
import type { PortMapping } from "./types.ts";

/** slirp4netns's fixed addressing (its defaults for `--configure`). */
export const SLIRP_CONTAINER_IP = "10.0.2.100";
/** The stack's DNS forwarder; it relays to the nameservers of the host's /etc/resolv.conf. */
export const SLIRP_DNS_IP = "10.0.2.3";

export interface SlirpStack {
  close(): Promise<void>;
}

/**
 * Attaches slirp4netns to the namespace of `pid`: a tap device `tap0` configured as 10.0.2.100/24
 * with the default route via 10.0.2.2, MTU 65520 (slirp's fastest). Why slirp4netns rather than
 * pasta: Debian 12's passt (2023-03) cannot attach to a namespace as root (it drops to `nobody`
 * and then may not open the namespace), and slirp4netns was as fast to start here (~4 ms); it
 * also has the two properties this needs:
 * - `--disable-host-loopback`: 10.0.2.2 does not lead to the host's 127.0.0.1, so a step cannot
 *   reach services bound to the host's loopback (as under `docker build`);
 * - `--exit-fd`: it exits when a pipe from this process closes, so it dies with strata (SIGKILL
 *   included) instead of lingering.
 * `--enable-sandbox` and `--enable-seccomp` confine slirp4netns itself (it parses packets the
 * step sends). Ports are forwarded through its API socket once it is ready.
 */
export async function startSlirp(pid: number, opts: { dir?: string; ports?: readonly PortMapping[] }): Promise<SlirpStack> {
  const bin = await which("slirp4netns");
  if (!bin) {
    throw new StrataError("STRATA_RUN_TOOL_MISSING", "the default RUN network needs slirp4netns on the host", {
      hint: "install slirp4netns, or use network none (RUN --network=none)",
    });
  }
  const ports = opts.ports ?? [];
  if (ports.length > 0 && !opts.dir) throw new Error("startSlirp: ports need a dir for the API socket");
  const api = ports.length > 0 ? join(opts.dir!, "slirp.sock") : undefined;
  const args = [
    "--configure",
    "--mtu=65520",
    "--disable-host-loopback",
    "--enable-sandbox",
    "--enable-seccomp",
    "--ready-fd=3",
    "--exit-fd=4",
    ...(api ? [`--api-socket=${api}`] : []),
    String(pid),
    "tap0",
  ];
  // slirp4netns's own sandbox unshares a mount namespace and pivots out of the old root: started
  // from the host's namespace, whose mounts are shared, those unmounts propagate back and take
  // down host mounts (every `ip netns` bind mount under /run/netns, for one). A private mount
  // namespace around it keeps them there.
  const unshare = await which("unshare");
  if (!unshare) throw new StrataError("STRATA_RUN_TOOL_MISSING", "the default RUN network needs unshare (util-linux) on the host", { hint: "install util-linux" });
  const child = spawn(unshare, ["--mount", "--propagation", "private", "--", bin, ...args], {
    env: { PATH: HOST_PATH, LC_ALL: "C" },
    stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const close = async () => {
    // The exit fd is for the case where strata dies; here the stack holds no state worth a
    // graceful stop, and waiting for it to notice the hang-up costs ~20 ms per step.
    (child.stdio[4] as import("node:net").Socket | null)?.destroy();
    child.kill("SIGKILL");
    await exited;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const ready = child.stdio[3] as NodeJS.ReadableStream;
      ready.once("data", () => resolve());
      child.once("exit", (code, sig) => reject(new Error(`slirp4netns exited (${sig ?? `exit ${code}`}) before it was ready: ${err.trim()}`)));
      child.once("error", reject);
    });
    for (const p of ports) await addHostFwd(api!, p);
  } catch (e) {
    await close();
    if (e instanceof StrataError) throw e;
    throw new StrataError("STRATA_RUN_SETUP_FAILED", `cannot start the RUN network: ${(e as Error).message}`, {
      cause: e,
      hint: "slirp4netns must be able to open the step's network namespace and /dev/net/tun",
    });
  }
  return { close };
}

/** One `add_hostfwd` request on slirp4netns's API socket (one JSON request per connection). */
function addHostFwd(socket: string, p: PortMapping): Promise<void> {
  const req = {
    execute: "add_hostfwd",
    arguments: { proto: p.protocol, host_addr: p.hostIp, host_port: p.hostPort, guest_addr: SLIRP_CONTAINER_IP, guest_port: p.containerPort },
  };
  return new Promise((resolve, reject) => {
    const s = connect(socket);
    let reply = "";
    s.on("data", (b) => (reply += b.toString()));
    s.on("error", reject);
    s.on("connect", () => s.end(JSON.stringify(req)));
    s.on("close", () => {
      let parsed: { return?: unknown; error?: { desc?: string } } = {};
      try {
        parsed = JSON.parse(reply) as typeof parsed;
      } catch {
        // handled below
      }
      if (parsed.return !== undefined) return resolve();
      const why = parsed.error?.desc ?? (reply.trim() || "no reply");
      reject(
        new StrataError("STRATA_NET_PORT_FORWARD", `cannot forward ${p.hostIp}:${p.hostPort} to port ${p.containerPort}/${p.protocol}: ${why}`, {
          hint: "the host port may be in use, or below 1024 without root",
        }),
      );
    });
  });
}
