import { StrataError } from "@strata/graph";
import { DEFAULT_HOSTNAME } from "../etc-files.ts";
import { hostsFor, resolvConfFor } from "./etc-content.ts";
import { createNetns } from "./netns-holder.ts";
import { SLIRP_CONTAINER_IP, SLIRP_DNS_IP, startSlirp } from "./slirp.ts";
import type { Network, StartNetworkOptions } from "./types.ts";

/**
 * Sets up the network of one step or container, before it starts:
 * - `default`: a new network namespace ({@link createNetns}) connected to the outside by
 *   slirp4netns ({@link startSlirp}): outbound TCP/UDP and DNS (through 10.0.2.3) work, the host's
 *   loopback does not; `ports` are forwarded from the host into the namespace.
 * - `none`: a new namespace with only `lo`, up.
 * - `host`: nothing is created; the caller runs in the host's namespace (an entitlement the
 *   caller must have checked).
 *
 * Join the namespace through `netnsPath` (runc: `{ type: "network", path }`; a process:
 * `nsenter --net=<path>`), write `resolvConf`/`hosts` as the step's files, and call `close()`
 * when the step is over. Every helper process exits when strata does, however it dies, so
 * nothing is left running or mounted.
 *
 * @example
 * const net = await startNetwork({ mode: "default", dir: runDir, ports: parsePortMapping("8080:80") });
 * try { ...run the container in net.netnsPath... } finally { await net.close(); }
 */
export async function startNetwork(opts: StartNetworkOptions): Promise<Network> {
  const hosts = hostsFor(opts.hostname ?? DEFAULT_HOSTNAME, opts.extraHosts ?? []);
  const ports = opts.ports ?? [];
  if (ports.length > 0 && opts.mode !== "default") {
    throw new StrataError("STRATA_NET_PORTS_NEED_NETWORK", `ports cannot be forwarded with network ${JSON.stringify(opts.mode)}`, {
      hint: opts.mode === "host" ? "with the host network the container's ports are the host's already" : "use the default network to publish ports",
    });
  }
  if (opts.mode === "host") {
    return { mode: "host", netnsPath: undefined, resolvConf: await resolvConfFor("host", undefined), hosts, containerIp: undefined, close: async () => {} };
  }
  const ns = await createNetns({ loopbackUp: opts.mode === "none" });
  try {
    const stack = opts.mode === "default" ? await startSlirp(ns.pid, { ...(opts.dir ? { dir: opts.dir } : {}), ports }) : undefined;
    let closing: Promise<void> | undefined;
    return {
      mode: opts.mode,
      netnsPath: ns.path,
      resolvConf: await resolvConfFor(opts.mode, stack ? SLIRP_DNS_IP : undefined),
      hosts,
      containerIp: stack ? SLIRP_CONTAINER_IP : undefined,
      close() {
        closing ??= Promise.all([stack?.close(), ns.close()]).then(() => {});
        return closing;
      },
    };
  } catch (e) {
    await ns.close();
    throw e;
  }
}
