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
