import { isIP } from "node:net";
import { apiHost, normalizeRegistry } from "./reference.ts";

/** Strips the port (and IPv6 brackets) from `host[:port]`. */
export function hostOnly(hostport: string): string {
  if (hostport.startsWith("[")) {
    const end = hostport.indexOf("]");
    return end === -1 ? hostport : hostport.slice(1, end);
  }
  const colon = hostport.lastIndexOf(":");
  return colon === -1 ? hostport : hostport.slice(0, colon);
}

/** `localhost`, `127.0.0.0/8` and `::1`: the only hosts plain HTTP is used for without being asked. */
export function isLoopbackHost(hostport: string): boolean {
  const h = hostOnly(hostport).toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1" || h === "0:0:0:0:0:0:0:1";
  return false;
}

/**
 * Whether `hostport` may be spoken to over plain HTTP: loopback, or listed as insecure by
 * the caller (by `host:port` or by host alone), like dockerd's `insecure-registries`.
 */
export function allowsPlainHttp(hostport: string, insecure: readonly string[] = []): boolean {
  if (isLoopbackHost(hostport)) return true;
  const norm = insecure.map((s) => normalizeRegistry(s).toLowerCase());
  const hp = hostport.toLowerCase();
  return norm.includes(hp) || norm.includes(hostOnly(hp));
}

/** The base URL of a registry's API: `https://registry-1.docker.io`, `http://127.0.0.1:5000`. */
export function registryBaseUrl(domain: string, insecure: readonly string[] = []): URL {
  const host = apiHost(domain);
  return new URL(`${allowsPlainHttp(domain, insecure) ? "http" : "https"}://${host}`);
}
