import { readFile } from "node:fs/promises";
import { DEFAULT_HOSTNAME } from "./etc-files.ts";
import type { RunContext } from "./run-context.ts";
import { seccompFor } from "./seccomp/profile.ts";
import { capabilitiesFor, MASKED_PATHS, NOFILE_LIMIT, READONLY_PATHS } from "./security-profile.ts";
import type { ExecSpec } from "./types.ts";

interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

/**
 * The OCI runtime-spec `config.json` for one step, close to what BuildKit hands runc for a
 * RUN: mount/pid/ipc/uts namespaces, the network namespace of the run (none for `host`), a private /proc, a tmpfs /dev with runc's default device nodes, /dev/pts, /dev/shm,
 * /dev/mqueue, a read-only /sys, the run's /etc/hosts and /etc/resolv.conf read-only, Docker's
 * default capabilities and seccomp profile (seccomp-profile.ts), masked and
 * read-only paths (`security: "insecure"`: every capability, no filter, nothing masked), a device cgroup that allows only the
 * default nodes, `noNewPrivileges: false` and BuildKit's open-files limit (lowered to what this
 * process may grant, see {@link grantableNofile}). Mount destinations
 * are the pre-resolved paths from the run plan, so runc does not resolve the image's symlinks
 * a second time.
 */
export function buildRuncConfig(spec: ExecSpec, ctx: RunContext, nofileLimit: number = NOFILE_LIMIT): object {
  const insecure = spec.security === "insecure";
  const mounts: OciMount[] = [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", insecure ? "rw" : "ro"] },
    { destination: `/${ctx.hostsRel}`, type: "bind", source: ctx.hostsFile, options: ["rbind", "ro"] },
    { destination: `/${ctx.resolvConfRel}`, type: "bind", source: ctx.resolvConfFile, options: ["rbind", "ro"] },
  ];
  for (const p of ctx.plan) {
    const destination = `/${p.rel}`;
    const m = p.mount;
    switch (m.type) {
      case "bind":
        mounts.push({ destination, type: "bind", source: m.source, options: ["rbind", m.readonly ? "ro" : "rw"] });
        break;
      case "cache":
        mounts.push({ destination, type: "bind", source: m.source, options: ["rbind", "rw"] });
        break;
      case "secret":
        mounts.push({ destination, type: "bind", source: m.source, options: ["rbind", "ro", "nosuid", "nodev", "noexec"] });
        break;
      case "tmpfs":
        mounts.push({
          destination,
          type: "tmpfs",
          source: "tmpfs",
          options: ["nosuid", "nodev", ...(m.size !== undefined ? [`size=${m.size}`] : [])],
        });
        break;
    }
  }
  // `default` and `none`: the namespace startNetwork made (with `lo` up, and for `default` the
  // user-mode stack attached); `host`: none of our own.
  const namespaces: { type: string; path?: string }[] = [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }];
  if (ctx.netnsPath) namespaces.push({ type: "network", path: ctx.netnsPath });
  const caps = [...capabilitiesFor(spec.security)];
  const seccomp = seccompFor(spec);
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: { uid: spec.user.uid, gid: spec.user.gid, additionalGids: [...spec.user.additionalGids] },
      args: [...spec.argv],
      env: [...ctx.env],
      cwd: spec.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: nofileLimit, soft: nofileLimit }],
      noNewPrivileges: false,
    },
    root: { path: spec.rootfs, readonly: false },
    hostname: spec.hostname ?? DEFAULT_HOSTNAME,
    mounts,
    linux: {
      namespaces,
      // Deny every device, then runc adds its defaults (null, zero, full, tty, random, urandom, pts).
      resources: { devices: [{ allow: false, access: "rwm" }] },
      // BuildKit's insecure mode is `--privileged`: nothing masked, nothing filtered.
      maskedPaths: insecure ? [] : [...MASKED_PATHS],
      readonlyPaths: insecure ? [] : [...READONLY_PATHS],
      ...(seccomp ? { seccomp } : {}),
    },
  };
}

/**
 * BuildKit's RLIMIT_NOFILE, unless this process cannot grant it: some hosts (gVisor, locked-down
 * CI runners) refuse to raise a hard limit even for root, and the step would not start.
 */
export async function grantableNofile(): Promise<number> {
  try {
    const text = await readFile("/proc/self/limits", "utf8");
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
    const hard = m?.[2] === "unlimited" ? Infinity : Number(m?.[2]);
    return Number.isFinite(hard) && hard > 0 ? Math.min(NOFILE_LIMIT, hard) : NOFILE_LIMIT;
  } catch {
    return NOFILE_LIMIT;
  }
}
