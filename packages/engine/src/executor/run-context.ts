import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { StrataError } from "@strata/graph";
import { writeEtcFiles } from "./etc-files.ts";
import { startNetwork, type Network } from "./network/index.ts";
import { createStubs, ensureCwd, planMounts, SYSTEM_TARGETS, type PlannedMount } from "./run-root.ts";
import { memoryDir } from "../sandbox-util/memory-dir.ts";
import { resolveRelative } from "../sandbox-util/root-path.ts";
import { homeForUid } from "./resolve-user.ts";
import type { ExecSpec } from "./types.ts";

/** Everything an executor needs for one run, prepared the same way for every executor. */
export interface RunContext {
  /** Unique container id (`strata-<pid>-<hex>`). */
  readonly id: string;
  /** The run's private directory on a memory file system (`strata-run-<pid>-*`); removed afterwards. */
  readonly dir: string;
  readonly plan: readonly PlannedMount[];
  readonly hostsFile: string;
  readonly resolvConfFile: string;
  /** Root-relative resolved paths of /etc/hosts and /etc/resolv.conf. */
  readonly hostsRel: string;
  readonly resolvConfRel: string;
  /**
   * The network namespace the step joins (`/proc/<pid>/ns/net`, see {@link startNetwork});
   * undefined for `network: "host"`.
   */
  readonly netnsPath: string | undefined;
  /** `spec.env`, plus `HOME` from the user's passwd entry when it has none (what runc does). */
  readonly env: readonly string[];
}

/**
 * Validates the spec, creates the cwd and the mount stubs, writes the per-run /etc files, calls
 * `fn`, and always removes the stubs and the run directory afterwards.
 */
export async function withRunContext<T>(stateDir: string, spec: ExecSpec, fn: (ctx: RunContext) => Promise<T>): Promise<T> {
  validateSpec(spec);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  // On a memory file system: the runtime bundle and the sandbox script hold the step's
  // environment, which may carry an env secret; it must never be written to a disk.
  const dir = memoryDir("run");
  let stubs: { remove(): Promise<void> } | undefined;
  // Started first and awaited last: the namespace and slirp4netns come up while the root is prepared.
  const starting = startNetwork({ mode: spec.network, ...(spec.hostname ? { hostname: spec.hostname } : {}), extraHosts: spec.extraHosts ?? [], ...(spec.ports?.length ? { dir, ports: spec.ports } : {}) });
  starting.catch(() => {});
  let net: Network;
  try {
    await ensureCwd(spec.rootfs, spec.cwd, spec.user);
    const plan = await planMounts(spec.rootfs, spec.mounts);
    const system = await Promise.all(SYSTEM_TARGETS.map(async (t) => ({ rel: await resolveRelative(spec.rootfs, t.target), kind: t.kind })));
    for (const s of system) {
      const top = s.rel.split("/")[0];
      if (s.rel === "" || (s.kind === "file" && (top === "proc" || top === "sys" || top === "dev"))) {
        throw new StrataError("STRATA_RUN_BAD_ROOTFS", `the image's ${s.rel} cannot be used as a mount point`);
      }
    }
    stubs = await createStubs(spec.rootfs, [...system, ...plan.filter((p) => p.insideTmpfs === undefined)]);
    net = await starting;
    const etc = await writeEtcFiles(dir, net);
    const env = spec.env.some((e) => e.startsWith("HOME=")) ? spec.env : [...spec.env, `HOME=${await homeForUid(spec.rootfs, spec.user.uid)}`];
    return await fn({
      // Our pid in the id: a later build can tell a dead build's leftover container (die-with-strata.ts).
      id: `strata-${process.pid}-${randomBytes(8).toString("hex")}`,
      dir,
      plan,
      hostsFile: etc.hosts,
      resolvConfFile: etc.resolvConf,
      hostsRel: system[3]!.rel,
      resolvConfRel: system[4]!.rel,
      netnsPath: net.netnsPath,
      env,
    });
  } finally {
    // Not awaited: the step is gone, and tearing down slirp's tap device takes the kernel
    // ~20-30 ms (an RCU grace period) that no step should wait for. The helpers are already
    // signalled; a CLI process still waits for them before it exits.
    void starting.then((n) => n.close(), () => {});
    await stubs?.remove();
    await rm(dir, { recursive: true, force: true });
  }
}

function validateSpec(spec: ExecSpec): void {
  if (spec.argv.length === 0 || spec.argv[0] === "") {
    throw new StrataError("STRATA_RUN_EMPTY_COMMAND", "the RUN command is empty");
  }
  for (const e of spec.env) {
    if (e.indexOf("=") <= 0) {
      throw new StrataError("STRATA_RUN_BAD_ENV", `environment entry ${JSON.stringify(e)} is not KEY=value`);
    }
  }
  if (!spec.cwd.startsWith("/")) {
    throw new StrataError("STRATA_RUN_BAD_CWD", `working directory ${JSON.stringify(spec.cwd)} is not absolute`);
  }
  for (const m of spec.mounts) {
    // fstab lines and error messages are line-based; no sane mount point has control characters.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
    if (/[\u0000-\u001f]/.test(m.target)) {
      throw new StrataError("STRATA_RUN_MOUNT_TARGET", `mount target ${JSON.stringify(m.target)} contains control characters`);
    }
  }
  const host = spec.hostname ?? "";
  if (host !== "" && !/^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/.test(host)) {
    throw new StrataError("STRATA_RUN_BAD_HOSTNAME", `hostname ${JSON.stringify(host)} is not valid`);
  }
}
