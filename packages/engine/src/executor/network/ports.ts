import { isIPv4 } from "node:net";
import { StrataError } from "@strata/graph";
import type { PortMapping } from "./types.ts";

/**
 * Parses docker's `-p` syntax as far as a user-mode stack can honour it:
 * `HOST:CTR`, `IP:HOST:CTR`, with `/tcp` (default) or `/udp`, and equal-length ranges
 * (`8000-8002:9000-9002`) expanded into one mapping per port. A spec without a host port
 * (`CTR`, `IP::CTR`) or with an IPv6 host address is a coded usage error rather than a silent
 * reinterpretation (docker would pick an ephemeral port / bind IPv6).
 */
export function parsePortMapping(spec: string): PortMapping[] {
  const bad = (why: string) =>
    new StrataError("STRATA_NET_BAD_PORT", `bad port mapping ${JSON.stringify(spec)}: ${why}`, {
      hint: "use [IP:]HOST_PORT:CONTAINER_PORT[/tcp|/udp], e.g. 8080:80 or 127.0.0.1:5353:53/udp",
    });
  let body = spec;
  let protocol: "tcp" | "udp" = "tcp";
  const slash = body.lastIndexOf("/");
  if (slash >= 0) {
    const p = body.slice(slash + 1);
    if (p !== "tcp" && p !== "udp") throw bad(`unknown protocol ${JSON.stringify(p)}`);
    protocol = p;
    body = body.slice(0, slash);
  }
  if (body.startsWith("[")) throw bad("IPv6 host addresses are not supported by the user-mode network");
  const parts = body.split(":");
  if (parts.length < 2) throw bad("a host port is required (ephemeral host ports are not supported)");
  if (parts.length > 3) throw bad("too many ':'");
  const [hostIp, hostPorts, ctrPorts] = parts.length === 3 ? parts : ["0.0.0.0", parts[0]!, parts[1]!];
  if (!isIPv4(hostIp!)) throw bad(`${JSON.stringify(hostIp)} is not an IPv4 address`);
  if (hostPorts === "") throw bad("a host port is required (ephemeral host ports are not supported)");
  const h = portRange(hostPorts!, bad);
  const c = portRange(ctrPorts!, bad);
  if (h.length !== c.length) throw bad("the host and container port ranges differ in length");
  return h.map((hostPort, i) => ({ hostIp: hostIp!, hostPort, containerPort: c[i]!, protocol }));
}

function portRange(text: string, bad: (why: string) => Error): number[] {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!m) throw bad(`${JSON.stringify(text)} is not a port or port range`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo < 1 || hi > 65535 || hi < lo) throw bad(`${JSON.stringify(text)} is outside 1-65535`);
  if (hi - lo >= 1024) throw bad(`${JSON.stringify(text)} spans more than 1024 ports`);
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}
