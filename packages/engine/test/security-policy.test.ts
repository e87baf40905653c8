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
