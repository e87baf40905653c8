import { describe, expect, it } from "vitest";
import { CLONE_NAMESPACE_FLAGS, defaultSeccompProfile, seccompFor } from "../src/executor/seccomp/profile.ts";
import { checkEntitlements, parseEntitlements } from "../src/solver/entitlements.ts";

describe("the default seccomp profile", () => {
  const p = defaultSeccompProfile("x64");
  const allowed = new Set(p.syscalls.filter((r) => r.action === "SCMP_ACT_ALLOW" && !r.args).flatMap((r) => r.names));

  it("denies by default with EPERM, for the native and compat ABIs", () => {
    expect(p.defaultAction).toBe("SCMP_ACT_ERRNO");
    expect(p.defaultErrnoRet).toBe(1);
    expect(p.architectures).toEqual(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
  });

  it("allows what programs need and none of what Docker keeps out", () => {
    for (const name of ["read", "openat", "execve", "clock_gettime", "arch_prctl", "chroot", "ptrace", "io_uring_setup"]) expect(allowed).toContain(name);
    for (const name of ["mount", "umount2", "unshare", "setns", "bpf", "perf_event_open", "keyctl", "add_key", "request_key", "kexec_load", "init_module", "reboot", "swapon", "pivot_root", "open_by_handle_at", "clone", "clone3"]) {
      expect(allowed, name).not.toContain(name);
    }
  });

  it("lets clone through only without namespace flags, and makes clone3 fall back", () => {
    expect(CLONE_NAMESPACE_FLAGS).toBe(0x10000000 | 0x20000000 | 0x40000000 | 0x04000000 | 0x08000000 | 0x00020000 | 0x02000000);
    expect(p.syscalls.find((r) => r.names.includes("clone"))).toEqual({
      names: ["clone"],
      action: "SCMP_ACT_ALLOW",
      args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }],
    });
    expect(defaultSeccompProfile("s390x").syscalls.find((r) => r.names.includes("clone"))!.args![0]!.index).toBe(1);
    expect(p.syscalls.find((r) => r.names.includes("clone3"))).toEqual({ names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38 });
  });

  it("is dropped for security insecure", () => {
    expect(seccompFor({ security: "insecure" })).toBeUndefined();
    expect(seccompFor({})).toBeDefined();
  });
});

describe("entitlements", () => {
  const op = (o: object) => ({ kind: "ExecOp", ...o }) as never;

  it("reads buildx's --allow values, repeated or comma-separated", () => {
    expect(parseEntitlements(["network.host,security.insecure", "network.host"])).toEqual(["network.host", "security.insecure"]);
    expect(() => parseEntitlements(["network.host,device"])).toThrow(expect.objectContaining({ code: "STRATA_ENTITLEMENT_UNKNOWN" }));
  });

  it("refuses host network and insecure steps unless granted, naming the flag", () => {
    expect(() => checkEntitlements(op({ network: "host" }), [], undefined)).toThrow(expect.objectContaining({ code: "STRATA_ENTITLEMENT_NETWORK_HOST", hint: expect.stringContaining("--allow network.host") }));
    expect(() => checkEntitlements(op({ security: "insecure" }), ["network.host"], undefined)).toThrow(expect.objectContaining({ code: "STRATA_ENTITLEMENT_SECURITY_INSECURE" }));
    expect(() => checkEntitlements(op({ network: "host", security: "insecure" }), ["network.host", "security.insecure"], undefined)).not.toThrow();
    expect(() => checkEntitlements(op({ network: "none" }), [], undefined)).not.toThrow();
  });
});

describe("the compiled BPF filter (the sandbox's)", () => {
  /** A classic-BPF interpreter for the opcodes the compiler emits, run on one seccomp_data. */
  function decide(prog: Buffer, nr: number, arch: number, args: readonly number[] = []): string {
    let a = 0;
    for (let pc = 0; pc * 8 < prog.length; ) {
      const code = prog.readUInt16LE(pc * 8);
      const jt = prog.readUInt8(pc * 8 + 2);
      const jf = prog.readUInt8(pc * 8 + 3);
      const k = prog.readUInt32LE(pc * 8 + 4);
      if (code === 0x20) a = k === 0 ? nr : k === 4 ? arch : (args[(k - 16) / 8] ?? 0) >>> 0;
      else if (code === 0x54) a = (a & k) >>> 0;
      else if (code === 0x06) return k === 0x7fff0000 ? "allow" : k >>> 16 === 5 ? `errno ${k & 0xffff}` : `kill`;
      if (code === 0x15) pc += 1 + (a === k ? jt : jf);
      else if (code === 0x35) pc += 1 + (a >= k ? jt : jf);
      else if (code === 0x05) pc += 1 + k;
      else pc += 1;
    }
    throw new Error("fell off the program");
  }
  const X64 = 0xc000003e;
  const I386 = 0x40000003;

  it("decides as the profile says, on x86_64 and its 32-bit ABI", async () => {
    const { compileSeccomp } = await import("../src/executor/seccomp/bpf.ts");
    const prog = compileSeccomp(defaultSeccompProfile("x64"), "x64")!;
    expect(decide(prog, 0, X64)).toBe("allow"); // read
    expect(decide(prog, 59, X64)).toBe("allow"); // execve
    expect(decide(prog, 165, X64)).toBe("errno 1"); // mount
    expect(decide(prog, 272, X64)).toBe("errno 1"); // unshare
    expect(decide(prog, 250, X64)).toBe("errno 1"); // keyctl
    expect(decide(prog, 435, X64)).toBe("errno 38"); // clone3
    expect(decide(prog, 56, X64, [0x11])).toBe("allow"); // clone(SIGCHLD)
    expect(decide(prog, 56, X64, [0x10000000 | 0x11])).toBe("errno 1"); // clone(CLONE_NEWUSER)
    expect(decide(prog, 41, X64, [2])).toBe("allow"); // socket(AF_INET)
    expect(decide(prog, 41, X64, [40])).toBe("errno 1"); // socket(AF_VSOCK)
    expect(decide(prog, 135, X64, [0xffffffff])).toBe("allow"); // personality query
    expect(decide(prog, 135, X64, [0x0040000])).toBe("errno 1"); // personality(ADDR_NO_RANDOMIZE)
    expect(decide(prog, 0x40000000 | 0, X64)).toBe("errno 1"); // x32 read
    expect(decide(prog, 3, I386)).toBe("allow"); // i386 read
    expect(decide(prog, 21, I386)).toBe("errno 1"); // i386 mount
    expect(decide(prog, 0, 0xc00000b7)).toBe("kill"); // another architecture
    expect(compileSeccomp(defaultSeccompProfile("arm64"), "arm64")).toBeUndefined();
  });
});
