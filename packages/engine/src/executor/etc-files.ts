import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Network } from "./network/types.ts";

export const DEFAULT_HOSTNAME = "strata";

/**
 * Writes the per-run `/etc/hosts` and `/etc/resolv.conf` of `net` into `dir` (the run's state
 * directory) and returns their host paths. They are bound over the image's files for the
 * run only, as Docker does, so they never reach the layer.
 */
export async function writeEtcFiles(dir: string, net: Network): Promise<{ hosts: string; resolvConf: string }> {
  const hosts = join(dir, "hosts");
  const resolvConf = join(dir, "resolv.conf");
  await writeFile(hosts, net.hosts, { mode: 0o644 });
  await writeFile(resolvConf, net.resolvConf, { mode: 0o644 });
  return { hosts, resolvConf };
}
