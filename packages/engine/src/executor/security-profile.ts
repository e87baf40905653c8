import { readFileSync } from "node:fs";

/**
 * What a RUN step may do, matching Docker's and BuildKit's defaults so that a command behaves
 * the same under `docker build` and Strata.
 */

/** Docker's default capability set (moby `oci/caps/defaults.go`, BuildKit's default spec). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/**
 * Every capability Linux has (up to 5.9's CAP_CHECKPOINT_RESTORE): what `security: "insecure"`
 * grants, as BuildKit's insecure mode does.
 */
const ALL_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
  "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
  "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
];

/**
 * The capability set of a step: Docker's default, or for `security: "insecure"` every one this
 * process holds in its bounding set (a privileged container gets what its runtime has: asking
 * for more makes runc fail with "unable to apply caps").
 */
export function capabilitiesFor(security: "sandbox" | "insecure" | undefined): readonly string[] {
  if (security !== "insecure") return DEFAULT_CAPABILITIES;
  grantable ??= hostBoundingSet();
  return grantable;
}

let grantable: readonly string[] | undefined;

/** ALL_CAPABILITIES is in bit order, so bit i of CapBnd is ALL_CAPABILITIES[i]. */
function hostBoundingSet(): readonly string[] {
  try {
    const hex = /^CapBnd:\s+([0-9a-f]+)/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    if (!hex) return ALL_CAPABILITIES;
    const bits = BigInt(`0x${hex}`);
    return ALL_CAPABILITIES.filter((_, i) => (bits >> BigInt(i)) & 1n);
  } catch {
    return ALL_CAPABILITIES;
  }
}

/** Paths hidden from the step (a /dev/null or empty read-only tmpfs over them), as Docker does. */
export const MASKED_PATHS: readonly string[] = [
  "/proc/acpi",
  "/proc/asound",
  "/proc/interrupts",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/sys/devices/virtual/powercap",
  "/sys/firmware",
];

/** Paths made read-only, so a root step cannot change kernel settings of the host. */
export const READONLY_PATHS: readonly string[] = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/** Open files limit BuildKit gives every RUN. */
export const NOFILE_LIMIT = 1048576;

/** Device nodes of the minimal /dev: name, major, minor (all mode 0666, root-owned). */
export const DEVICES: readonly (readonly [string, number, number])[] = [
  ["null", 1, 3],
  ["zero", 1, 5],
  ["full", 1, 7],
  ["random", 1, 8],
  ["urandom", 1, 9],
  ["tty", 5, 0],
];
