import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ExecSpec } from "./types.ts";

export const DEFAULT_HOSTNAME = "strata";

/**
 * Writes the per-run `/etc/hosts` and `/etc/resolv.conf` into `dir` (the run's state
 * directory) and returns their host paths. They are bound over the image's files for the
 * run only, as Docker does, so they never reach the layer.
 */
export async function writeEtcFiles(dir: string, spec: ExecSpec): Promise<{ hosts: string; resolvConf: string }> {
  const hostname = spec.hostname ?? DEFAULT_HOSTNAME;
  const lines = [
    `127.0.0.1\tlocalhost ${hostname}`,
    "::1\tlocalhost ip6-localhost ip6-loopback",
    ...(spec.extraHosts ?? []).map((h) => `${h.ip}\t${h.host}`),
  ];
  const hosts = join(dir, "hosts");
  const resolvConf = join(dir, "resolv.conf");
  await writeFile(hosts, `${lines.join("\n")}\n`, { mode: 0o644 });
  await writeFile(resolvConf, await hostResolvConf(), { mode: 0o644 });
  return { hosts, resolvConf };
}

/**
 * The host's resolver configuration. The step shares the host's network namespace (or has
 * none), so the host's nameservers, loopback ones included, are the right ones; without a
 * host file Docker's public fallback is used.
 */
async function hostResolvConf(): Promise<string> {
  try {
    const text = await readFile("/etc/resolv.conf", "utf8");
    if (/^\s*nameserver\s/m.test(text)) return text.endsWith("\n") ? text : `${text}\n`;
  } catch {
    // fall through to the default
  }
  return "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";
}
