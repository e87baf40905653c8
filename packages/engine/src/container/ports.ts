import { StrataError } from "@strata/graph";

/** One `-p` mapping: a host address and port forwarded to a container port. */
export interface PortMapping {
  /** Host address to listen on; "0.0.0.0" when not given (docker's default). */
  readonly hostIp: string;
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: "tcp" | "udp";
}

/**
 * `-p [IP:]HOST:CTR[/tcp|udp]` as docker reads it, one port per mapping (ranges and a random
 * host port, `-p CTR`, are refused with a coded error rather than guessed). IPv6 hosts are
 * written in brackets: `-p [::1]:8080:80`.
 */
export function parsePublish(spec: string): PortMapping {
  const bad = (why: string) =>
    new StrataError("STRATA_RUN_BAD_PUBLISH", `-p ${JSON.stringify(spec)}: ${why}`, { hint: "use -p [IP:]HOST_PORT:CONTAINER_PORT[/udp], e.g. -p 8080:80" });
  let rest = spec;
  let protocol: "tcp" | "udp" = "tcp";
  const slash = rest.lastIndexOf("/");
  if (slash >= 0) {
    const p = rest.slice(slash + 1).toLowerCase();
    if (p !== "tcp" && p !== "udp") throw bad(`protocol ${JSON.stringify(p)} is not tcp or udp`);
    protocol = p;
    rest = rest.slice(0, slash);
  }
  let hostIp = "0.0.0.0";
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(.*)$/.exec(rest);
  if (v6) {
    hostIp = v6[1]!;
    rest = v6[2]!;
  }
  const parts = rest.split(":");
  if (!v6 && parts.length === 3) hostIp = parts.shift()!;
  if (parts.length !== 2) throw bad(parts.length === 1 ? "a host port is needed (strata does not pick a random one)" : "too many fields");
  if (!v6 && !/^\d{1,3}(\.\d{1,3}){3}$/.test(hostIp)) throw bad(`${JSON.stringify(hostIp)} is not an IPv4 address`);
  const port = (s: string, what: string) => {
    if (s.includes("-")) throw bad("port ranges are not supported");
    if (!/^\d{1,5}$/.test(s) || Number(s) < 1 || Number(s) > 65535) throw bad(`${what} port ${JSON.stringify(s)} is not 1-65535`);
    return Number(s);
  };
  return { hostIp, hostPort: port(parts[0]!, "host"), containerPort: port(parts[1]!, "container"), protocol };
}
