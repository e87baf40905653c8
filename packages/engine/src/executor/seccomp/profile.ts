/**
 * The seccomp policy of a RUN step: Docker's default profile (moby `profiles/seccomp`), written
 * out as data for the capabilities a step has by default ({@link DEFAULT_CAPABILITIES}). Every
 * syscall not allowed here fails with EPERM. What that keeps out, among others: new namespaces
 * (`unshare`, `setns`, `clone`/`clone3` with namespace flags), `mount`/`umount2`/`pivot_root` and
 * the new mount API, `bpf`, `perf_event_open`, `keyctl`/`add_key`/`request_key`, module loading,
 * `kexec_load`, `reboot`, `swapon`/`swapoff`, `acct`, `settimeofday`, `iopl`, `open_by_handle_at`,
 * AF_VSOCK sockets and unusual `personality` values. `ptrace` stays allowed as in Docker (since
 * Linux 4.8 it cannot be used to bypass the filter), so debuggers and strace work inside a step.
 */
import type { ExecSpec } from "../types.ts";

/** One OCI runtime-spec `linux.seccomp.syscalls[]` rule. */
export interface SeccompRule {
  readonly names: readonly string[];
  readonly action: "SCMP_ACT_ALLOW" | "SCMP_ACT_ERRNO";
  readonly errnoRet?: number;
  readonly args?: readonly { readonly index: number; readonly value: number; readonly valueTwo?: number; readonly op: "SCMP_CMP_EQ" | "SCMP_CMP_NE" | "SCMP_CMP_MASKED_EQ" }[];
}

/** The OCI runtime-spec `linux.seccomp` object. */
export interface SeccompProfile {
  readonly defaultAction: "SCMP_ACT_ERRNO";
  readonly defaultErrnoRet: number;
  readonly architectures: readonly string[];
  readonly syscalls: readonly SeccompRule[];
}

const EPERM = 1;
const ENOSYS = 38;

/** Syscalls every step may make, on every architecture (names unknown to an arch are ignored by the runtime). */
const ALLOWED = `
accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32 clock_adjtime
clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep
clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2 dup3 epoll_create
epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2
execve execveat exit exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir
fchmod fchmodat fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork
fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex
futex_time64 futex_waitv futimesat getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32
getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp getpid getppid getpriority
getrandom getresgid getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid
getsockname getsockopt get_thread_area gettid gettimeofday getuid getuid32 getxattr inotify_add_watch
inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents
io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit io_uring_enter io_uring_register
io_uring_setup ipc kill landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown lchown32
lgetxattr link linkat listen listxattr llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64
madvise membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall
mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend
mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock munlockall munmap
name_to_handle_at nanosleep newfstatat _newselect open openat openat2 pause pidfd_open pidfd_send_signal
pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2
prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink
readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages removexattr rename
renameat renameat2 restart_syscall rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo
rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity
sched_getattr sched_getparam sched_get_priority_max sched_get_priority_min sched_getscheduler
sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam
sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop semtimedop_time64 send
sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32
setgroups setgroups32 setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid
setresuid32 setreuid setreuid32 setrlimit set_robust_list setsid setsockopt set_thread_area
set_tid_address setuid setuid32 setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd
signalfd4 sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs statfs64 statx symlink
symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete timer_getoverrun
timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create timerfd_gettime
timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask
uname unlink unlinkat utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write
writev
  ptrace process_vm_readv process_vm_writev
  chroot
`;

/** Syscalls only one architecture family has (Docker allows them there). */
const ARCH_ALLOWED: Readonly<Record<string, string>> = {
  x64: "arch_prctl modify_ldt",
  ia32: "modify_ldt",
  arm: "arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls",
  arm64: "arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls",
  ppc64: "sync_file_range2 swapcontext",
  s390x: "s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr",
  riscv64: "riscv_flush_icache",
};

/** libseccomp architecture names a step may use: the native one and its compat ABIs (32-bit binaries). */
const ARCHITECTURES: Readonly<Record<string, readonly string[]>> = {
  x64: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  ia32: ["SCMP_ARCH_X86"],
  arm64: ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
  arm: ["SCMP_ARCH_ARM"],
  ppc64: ["SCMP_ARCH_PPC64LE"],
  s390x: ["SCMP_ARCH_S390X", "SCMP_ARCH_S390"],
  riscv64: ["SCMP_ARCH_RISCV64"],
};

/**
 * The namespace flags of clone(2): CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID |
 * NEWNET (0x7E020000). A clone with any of them is refused; threads and forks pass.
 */
export const CLONE_NAMESPACE_FLAGS = 0x7e020000;

/** `personality(2)` values Docker allows: PER_LINUX, PER_LINUX32, UNAME26 (each with PER_LINUX32), and the query 0xffffffff. */
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

const AF_VSOCK = 40;

/** Docker's default seccomp profile for this machine's architecture (`process.arch`). */
export function defaultSeccompProfile(arch: string = process.arch): SeccompProfile {
  const words = (s: string | undefined) => (s ?? "").split(/\s+/).filter((w) => w !== "");
  // s390 passes clone's flags as the second argument.
  const cloneFlagsArg = arch === "s390x" ? 1 : 0;
  return {
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: EPERM,
    architectures: ARCHITECTURES[arch] ?? [],
    syscalls: [
      { names: [...words(ALLOWED), ...words(ARCH_ALLOWED[arch])], action: "SCMP_ACT_ALLOW" },
      { names: ["socket"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: AF_VSOCK, op: "SCMP_CMP_NE" }] },
      ...PERSONALITIES.map((value): SeccompRule => ({ names: ["personality"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value, op: "SCMP_CMP_EQ" }] })),
      { names: ["clone"], action: "SCMP_ACT_ALLOW", args: [{ index: cloneFlagsArg, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }] },
      // clone3 passes its flags in memory a filter cannot read: ENOSYS makes libc fall back to clone.
      { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: ENOSYS },
    ],
  };
}

/** The seccomp profile a step runs under: Docker's default, or none for `security: "insecure"`. */
export function seccompFor(spec: Pick<ExecSpec, "security">): SeccompProfile | undefined {
  return spec.security === "insecure" ? undefined : defaultSeccompProfile();
}
