import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import type { NetworkMode } from "./types.ts";

/** Docker's fallback when the host has no usable nameserver. */
const FALLBACK_NAMESERVERS = ["8.8.8.8", "8.8.4.4"];

/**
 * The step's /etc/resolv.conf. `host`: the host's file as it is. `default`: the stack's DNS
 * forwarder, keeping the host's `search` and `options` lines. `none`: the host's file without
 * loopback nameservers (they would be the step's own loopback), else Docker's public fallback,
 * as Docker writes it for a container without a network.
 */
export async function resolvConfFor(mode: NetworkMode, forwarder: string | undefined): Promise<string> {
  const host = await readFile("/etc/resolv.conf", "utf8").catch(() => "");
  const lines = host.split("\n");
  if (mode === "host" && /^\s*nameserver\s/m.test(host)) return host.endsWith("\n") ? host : `${host}\n`;
  const keep = lines.filter((l) => /^\s*(search|domain|options)\s/.test(l));
  let servers: string[];
  if (mode === "default" && forwarder) servers = [forwarder];
  else {
    servers = lines
      .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
      .filter((s): s is string => s !== undefined && isIP(s) !== 0 && !isLoopback(s));
    if (servers.length === 0) servers = FALLBACK_NAMESERVERS;
  }
  return `${[...servers.map((s) => `nameserver ${s}`), ...keep].join("\n")}\n`;
}

function isLoopback(ip: string): boolean {
  return ip.startsWith("127.") || ip === "::1";
}

/** The step's /etc/hosts: localhost and the hostname, then `--add-host` entries. */
export function hostsFor(hostname: string, extra: readonly { readonly host: string; readonly ip: string }[]): string {
  const lines = [`127.0.0.1\tlocalhost ${hostname}`, "::1\tlocalhost ip6-localhost ip6-loopback", ...extra.map((h) => `${h.ip}\t${h.host}`)];
  return `${lines.join("\n")}\n`;
}
