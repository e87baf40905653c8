import { dirname, join } from "node:path/posix";
import { formatFstab, shQuote, type FstabEntry } from "./fstab.ts";
import type { RunContext } from "./run-context.ts";
import { DEFAULT_HOSTNAME } from "./etc-files.ts";
import { capabilitiesFor } from "./security-profile.ts";
import type { ExecSpec } from "./types.ts";
import type { compileSeccomp } from "./seccomp/bpf.ts";

/** Host tools the script runs, by absolute path (resolved once on the host's PATH). */
export interface SandboxTools {
  readonly sh: string;
  readonly mount: string;
  readonly mkdir: string;
  readonly env: string;
  readonly setpriv: string;
  readonly unshare: string;
  /** util-linux, to join the run's network namespace. */
  readonly nsenter: string;
  /** Loads the seccomp filter ({@link SECCOMP_LOADER}); without it the sandbox has none. */
  readonly perl: string | undefined;
}

/** How the step's seccomp filter is loaded: a compiled BPF file and perl to load it (see {@link SECCOMP_LOADER}). */
export interface SandboxSeccomp {
  readonly perl: string;
  /** The filter ({@link compileSeccomp}'s output) in the run directory. */
  readonly filter: string;
  /** prctl's syscall number on this architecture. */
  readonly prctlNr: number;
}

/**
 * Loads a seccomp filter and execs the rest of its arguments: perl (perl-base is on every
 * Debian-like system) can make the prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) call
 * that none of util-linux's tools can. It runs as full root, before setpriv drops the
 * capabilities, so no_new_privs is not needed (Docker does not set it either). "ok" on fd 3
 * says that setup, filter included, is complete.
 */
const SECCOMP_LOADER = [
  'open(my $f, "<:raw", $ARGV[0]) or die "strata-sandbox: cannot read the seccomp filter: $!\\n";',
  "local $/; my $p = <$f>; close $f;",
  'my $fprog = pack("S x![P] P", length($p) / 8, $p);',
  'syscall(0 + $ARGV[1], 22, 2, $fprog) == 0 or die "strata-sandbox: cannot load the seccomp filter: $!\\n";',
  'open(my $s, ">&=", 3) or die "strata-sandbox: fd 3: $!\\n"; print $s "ok\\n"; close $s;',
  "splice(@ARGV, 0, 2);",
  'exec { $ARGV[0] } @ARGV or die "strata-sandbox: cannot run $ARGV[0]: $!\\n";',
].join(" ");

export interface SandboxFiles {
  /** The script and its fstab files, keyed by file name in the run directory. */
  readonly files: ReadonlyMap<string, string>;
  readonly scriptPath: string;
}

/**
 * The in-namespace half of the built-in sandbox, as a POSIX sh script run by the host's
 * /bin/sh inside `[nsenter --net=<run netns>] unshare --mount --pid --ipc --uts --fork`. It
 * 1. mounts everything the step sees below the root (a bind of the root onto itself, /proc,
 *    /dev, /dev/pts, /dev/shm, /dev/mqueue, a read-only /sys, Docker's masked and read-only
 *    paths, /etc/hosts, /etc/resolv.conf, the step's mounts) with two `mount -a -T fstab`
 *    calls instead of one process per mount;
 * 2. moves the root's mount onto `/` (`mount --move . /`), so the host's tree is covered in this
 *    namespace and a later chroot cannot climb out of it: `..` at the root of the moved mount
 *    leads back into it, and /proc/self/mountinfo no longer lists host mounts;
 * 3. exports the step's environment (see {@link splitEnv}) and execs, with the host's tools
 *    still reachable through the old root, `setpriv` (bounding set = Docker's default capabilities, gid, supplementary groups) →
 *    `unshare --root=. --wd=<cwd> [-S uid]`, which chroots into the moved root, changes to the
 *    working directory, drops to the uid and execs argv, looked up on the step's own PATH.
 *
 * Devices: the step's root has CAP_MKNOD (Docker's default set), and without a device cgroup a
 * node it makes could open a host disk. So every mount it can write to is `nodev` (the root,
 * binds, caches, tmpfs mounts): nodes made there land in the layer, as under Docker, but cannot
 * be opened; and /dev is the template of allowed nodes bound read-only (Docker's is a writable
 * tmpfs whose extra nodes the device cgroup blocks).
 *
 * 4. with a seccomp filter (Docker's default profile, compiled by {@link compileSeccomp}), runs
 *    the chain under perl's {@link SECCOMP_LOADER}, which loads it first.
 *
 * Setup errors go to a file in the run directory; "ok" on fd 3 tells the parent that setup
 * finished, and fd 3 and the saved stderr are closed before the step's command starts.
 */
export function buildSandboxScript(
  spec: ExecSpec,
  ctx: RunContext,
  tools: SandboxTools,
  devTemplate: string,
  hostMasked: { readonly files: readonly string[]; readonly dirs: readonly string[]; readonly readonly: readonly string[] },
  seccomp?: SandboxSeccomp,
): SandboxFiles {
  const R = spec.rootfs;
  const at = (rel: string) => join(R, rel);
  const base: FstabEntry[] = [
    { source: "proc", target: at("proc"), fsType: "proc", options: ["nosuid", "nodev", "noexec"] },
    // The template of device nodes, bound read-only: see the note on devices above.
    { source: devTemplate, target: at("dev"), fsType: "none", options: ["bind", "ro", "nosuid"] },
    { source: "sysfs", target: at("sys"), fsType: "sysfs", options: [spec.security === "insecure" ? "rw" : "ro", "nosuid", "nodev", "noexec"] },
  ];
  const rest: FstabEntry[] = [
    {
      source: "devpts",
      target: at("dev/pts"),
      fsType: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    { source: "shm", target: at("dev/shm"), fsType: "tmpfs", options: ["nosuid", "nodev", "noexec", "mode=1777", "size=65536k"] },
    { source: "mqueue", target: at("dev/mqueue"), fsType: "mqueue", options: ["nosuid", "nodev", "noexec"] },
    ...hostMasked.files.map((p) => ({ source: at("dev/null"), target: at(p.slice(1)), fsType: "none", options: ["bind", "ro"] })),
    ...hostMasked.dirs.map((p) => ({ source: "tmpfs", target: at(p.slice(1)), fsType: "tmpfs", options: ["ro", "nosuid", "nodev", "noexec", "size=4k"] })),
    ...hostMasked.readonly.map((p) => ({ source: at(p.slice(1)), target: at(p.slice(1)), fsType: "none", options: ["bind", "ro"] })),
    { source: ctx.hostsFile, target: at(ctx.hostsRel), fsType: "none", options: ["bind", "ro"] },
    { source: ctx.resolvConfFile, target: at(ctx.resolvConfRel), fsType: "none", options: ["bind", "ro"] },
  ];

  // User mounts, in plan order; a file mount point inside a tmpfs needs a `touch` between two fstabs.
  const groups: { fstab: FstabEntry[]; touchBefore: string[] }[] = [{ fstab: rest, touchBefore: [] }];
  for (const p of ctx.plan) {
    const target = at(p.rel);
    const nested = p.insideTmpfs !== undefined;
    if (nested && p.kind === "file") groups.push({ fstab: [], touchBefore: [target] });
    const cur = groups[groups.length - 1]!.fstab;
    const mkdir = nested && p.kind === "dir" ? ["X-mount.mkdir"] : [];
    const m = p.mount;
    switch (m.type) {
      case "bind":
        cur.push({ source: m.source, target, fsType: "none", options: ["rbind", m.readonly ? "ro" : "rw", "nodev", ...mkdir] });
        break;
      case "cache":
        cur.push({ source: m.source, target, fsType: "none", options: ["rbind", "rw", "nodev", ...mkdir] });
        break;
      case "secret":
        cur.push({ source: m.source, target, fsType: "none", options: ["bind", "ro", "nosuid", "nodev", "noexec"] });
        break;
      case "tmpfs":
        cur.push({
          source: "tmpfs",
          target,
          fsType: "tmpfs",
          options: ["nosuid", "nodev", ...(m.size !== undefined ? [`size=${m.size}`] : []), ...mkdir],
        });
        break;
    }
  }

  const files = new Map<string, string>();
  files.set("fstab-0", formatFstab(base));
  const lines = [
    "set -u",
    `exec 4>&2 2>${shQuote(join(ctx.dir, "setup.err"))}`,
    `fail() { echo "strata-sandbox: $*" >&2; exit 125; }`,
    `R=${shQuote(R)}`,
    `${shQuote(tools.mount)} --bind -o nodev "$R" "$R" || fail "cannot bind the root filesystem"`,
    `${shQuote(tools.mount)} -a -T ${shQuote(join(ctx.dir, "fstab-0"))} || fail "cannot mount /proc, /dev or /sys"`,
  ];
  groups.forEach((g, i) => {
    for (const t of g.touchBefore) {
      lines.push(`${shQuote(tools.mkdir)} -p ${shQuote(dirname(t))} && : > ${shQuote(t)} || fail ${shQuote(`cannot create mount point ${t}`)}`);
    }
    if (g.fstab.length === 0) return;
    const name = `fstab-${i + 1}`;
    files.set(name, formatFstab(g.fstab));
    lines.push(`${shQuote(tools.mount)} -a -T ${shQuote(join(ctx.dir, name))} || fail "cannot apply the step's mounts"`);
  });
  lines.push(`printf %s ${shQuote(spec.hostname ?? DEFAULT_HOSTNAME)} > /proc/sys/kernel/hostname || fail "cannot set the hostname"`);
  lines.push(`cd "$R" || fail "cannot enter the root"`);
  lines.push(`${shQuote(tools.mount)} --move . / || fail "cannot move the root onto /"`);
  const caps = capabilitiesFor(spec.security).map((c) => `+${c.slice(4).toLowerCase()}`).join(",");
  const groupsArg = spec.user.additionalGids.length > 0 ? `--groups=${spec.user.additionalGids.join(",")}` : "--clear-groups";
  // The step's environment is exported by this script (on a memory file system), never put on
  // a command line: an argv is world-readable in /proc/<pid>/cmdline while the process lives,
  // and an env secret must not be. Only names a shell cannot export (Docker allows `a.b=1`)
  // go through `env --`; the host tools' own variables, and the PWD/OLDPWD dash exports after
  // `cd`, are unset first, so the step sees exactly ctx.env.
  const { exported, viaEnv } = splitEnv(ctx.env);
  const finalArgv = [
    ...(viaEnv.length > 0 ? [tools.env, "--", ...viaEnv] : []),
    tools.setpriv,
    `--bounding-set=-all,${caps}`,
    `--regid=${spec.user.gid}`,
    groupsArg,
    "--",
    tools.unshare,
    "--root=.",
    `--wd=${spec.cwd}`,
    ...(spec.user.uid !== 0 ? ["-S", String(spec.user.uid)] : []),
    "--",
    ...spec.argv,
  ];
  lines.push("unset PATH LC_ALL LIBMOUNT_UTAB PWD OLDPWD");
  for (const e of exported) lines.push(`export ${shQuote(e)}`);
  if (seccomp) {
    lines.push(`exec 2>&4 4>&-`);
    lines.push(`exec ${[seccomp.perl, "-e", SECCOMP_LOADER, seccomp.filter, String(seccomp.prctlNr), ...finalArgv].map(shQuote).join(" ")}`);
  } else {
    lines.push(`echo ok >&3`);
    lines.push(`exec 2>&4 4>&- 3>&-`);
    lines.push(`exec ${finalArgv.map(shQuote).join(" ")}`);
  }
  const scriptPath = join(ctx.dir, "sandbox.sh");
  files.set("sandbox.sh", `${lines.join("\n")}\n`);
  return { files, scriptPath };
}

/** A name POSIX sh can `export`. */
const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The step's `KEY=value` entries split into those the script exports (every name a shell can
 * hold, secrets included: env secrets are validated to be such names) and the rest, which
 * `env --` sets on its command line.
 */
function splitEnv(env: readonly string[]): { exported: string[]; viaEnv: string[] } {
  const exported: string[] = [];
  const viaEnv: string[] = [];
  for (const e of env) (SHELL_NAME.test(e.slice(0, e.indexOf("="))) ? exported : viaEnv).push(e);
  return { exported, viaEnv };
}
