import { StrataError } from "./diagnostic.ts";

/**
 * Validation of the config values Docker parses when it builds (EXPOSE ports, STOPSIGNAL),
 * shared by the Dockerfile checks (literal values, at parse time), the builders (literal
 * values, when the module runs) and the config fold (values read from build args, after
 * expansion) — so each wrong value gets the same code wherever it is written.
 */

const PROTOCOLS = new Set(["tcp", "udp", "sctp"]);

/**
 * One EXPOSE word → the ports it exposes, as Docker stores them (`80/tcp`): a range
 * `8000-8002/udp` is every port in it, as Docker's nat.ParsePortSpecs expands it. Ports are
 * 1–65535 (Docker also takes 0; nothing can listen on it), protocols tcp, udp or sctp in any
 * case. A host-side mapping (`1.2.3.4:80:8080`) exposes the container port, as in Docker.
 */
export function parsePortSpec(spec: string): string[] {
  const bad = (why: string) =>
    new StrataError("STRATA_BAD_PORT", `invalid port ${JSON.stringify(spec)}: ${why}`, {
      hint: 'write a port 1-65535, optionally a range (8000-8010) and a protocol (53/udp, 80/tcp, 9/sctp)',
    });
  const slash = spec.lastIndexOf("/");
  const proto = slash >= 0 ? spec.slice(slash + 1).toLowerCase() : "tcp";
  let port = slash >= 0 ? spec.slice(0, slash) : spec;
  if (!PROTOCOLS.has(proto)) throw bad(`unknown protocol ${JSON.stringify(proto)}`);
  const colon = port.lastIndexOf(":");
  if (colon >= 0) port = port.slice(colon + 1);
  const m = /^(\d+)(?:-(\d+))?$/.exec(port);
  if (!m) throw bad("expected a number or a range");
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start < 1 || start > 65535) throw bad(`${m[1]} is not a port number (1-65535)`);
  if (end < 1 || end > 65535) throw bad(`${m[2]} is not a port number (1-65535)`);
  if (end < start) throw bad(`the range ends (${end}) before it starts (${start})`);
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto}`);
  return out;
}

/** Linux's signal names, as Docker's signal.ParseSignal knows them (without the SIG prefix). */
export const SIGNAL_NAMES = [
  "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT", "KILL", "PIPE", "POLL",
  "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP", "TTIN", "TTOU", "URG", "USR1",
  "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ", "RTMIN", "RTMAX",
] as const;
const NAMES = new Set<string>(SIGNAL_NAMES);

/**
 * Checks a STOPSIGNAL value as Docker parses it: a name with or without `SIG` in any case
 * (`SIGTERM`, `term`), `SIGRTMIN+N` / `SIGRTMAX-N` (N 1-15), or a number 1-64. Returns it as
 * written (Docker stores the text).
 */
export function checkStopSignal(signal: string): string {
  const name = signal.toUpperCase().replace(/^SIG/, "");
  const rt = /^RT(MIN\+|MAX-)(\d+)$/.exec(name);
  const num = /^\d+$/.test(signal) ? Number(signal) : undefined;
  const ok = num !== undefined ? num >= 1 && num <= 64 : NAMES.has(name) || (rt !== null && Number(rt[2]) >= 1 && Number(rt[2]) <= 15);
  if (!ok) {
    throw new StrataError("STRATA_BAD_SIGNAL", `invalid signal ${JSON.stringify(signal)}`, { hint: "write a signal name (SIGTERM, SIGINT, SIGQUIT, …) or a number 1-64" });
  }
  return signal;
}
