import type { SeccompProfile, SeccompRule } from "./profile.ts";
import { I386, X86_64 } from "./syscall-numbers.ts";

// Classic BPF opcodes and seccomp return values (linux/filter.h, linux/seccomp.h).
const LD_W_ABS = 0x20;
const JMP_JA = 0x05;
const JMP_JEQ_K = 0x15;
const JMP_JGE_K = 0x35;
const ALU_AND_K = 0x54;
const RET_K = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;
const RET_KILL_PROCESS = 0x80000000;
const AUDIT_ARCH_X86_64 = 0xc000003e;
const AUDIT_ARCH_I386 = 0x40000003;
/** x32 syscalls come in as x86_64 with this bit set; Strata does not allow that ABI. */
const X32_SYSCALL_BIT = 0x40000000;
/** struct seccomp_data: nr at 0, arch at 4, args[i] at 16 + 8i (the low 32 bits first, little-endian). */
const OFF_NR = 0;
const OFF_ARCH = 4;
const argLow = (i: number) => 16 + 8 * i;

type Insn = readonly [code: number, jt: number, jf: number, k: number];

/**
 * Compiles `profile` into a classic BPF program (`struct sock_filter[]`, 8 bytes each) for the
 * architecture `arch` (`process.arch`), the filter the built-in sandbox loads before the step's
 * command starts. Undefined when Strata has no syscall table for the architecture.
 *
 * Layout: check the audit arch and jump to its section; in a section, each allowed syscall is
 * `jeq nr → ret ALLOW`, a syscall with argument rules is a block where every rule loads its
 * argument's low 32 bits (the kernel reads these syscalls' arguments as 32-bit values) and
 * returns ALLOW on a match, ending in the default action. Unknown arches are killed.
 */
export function compileSeccomp(profile: SeccompProfile, arch: string = process.arch): Buffer | undefined {
  if (arch !== "x64") return undefined;
  const deny = RET_ERRNO | (profile.defaultErrnoRet & 0xffff);
  const x64 = section(profile.syscalls, X86_64, deny, true);
  const x86 = section(profile.syscalls, I386, deny, false);
  const prog: Insn[] = [
    [LD_W_ABS, 0, 0, OFF_ARCH],
    [JMP_JEQ_K, 1, 0, AUDIT_ARCH_X86_64],
    [JMP_JA, 0, 0, x64.length],
    ...x64,
    [LD_W_ABS, 0, 0, OFF_ARCH],
    [JMP_JEQ_K, 1, 0, AUDIT_ARCH_I386],
    [RET_K, 0, 0, RET_KILL_PROCESS],
    ...x86,
  ];
  if (prog.length > 4096) throw new Error(`seccomp program too long (${prog.length} instructions)`);
  const out = Buffer.alloc(prog.length * 8);
  prog.forEach(([code, jt, jf, k], i) => {
    out.writeUInt16LE(code, i * 8);
    out.writeUInt8(jt, i * 8 + 2);
    out.writeUInt8(jf, i * 8 + 3);
    out.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return out;
}

function section(rules: readonly SeccompRule[], numbers: Readonly<Record<string, number>>, deny: number, rejectX32: boolean): Insn[] {
  const out: Insn[] = [[LD_W_ABS, 0, 0, OFF_NR]];
  if (rejectX32) out.push([JMP_JGE_K, 0, 1, X32_SYSCALL_BIT], [RET_K, 0, 0, deny]);
  const plain = new Set<number>();
  const conditional = new Map<number, SeccompRule[]>();
  const errno = new Map<number, number>();
  for (const r of rules) {
    for (const name of r.names) {
      const nr = numbers[name];
      if (nr === undefined) continue;
      if (r.action === "SCMP_ACT_ERRNO") errno.set(nr, RET_ERRNO | ((r.errnoRet ?? 1) & 0xffff));
      else if (r.args?.length) conditional.set(nr, [...(conditional.get(nr) ?? []), r]);
      else plain.add(nr);
    }
  }
  for (const nr of [...plain].sort((a, b) => a - b)) out.push([JMP_JEQ_K, 0, 1, nr], [RET_K, 0, 0, RET_ALLOW]);
  for (const [nr, ret] of errno) out.push([JMP_JEQ_K, 0, 1, nr], [RET_K, 0, 0, ret]);
  for (const [nr, list] of conditional) {
    const block: Insn[] = [];
    for (const r of list) {
      if (r.args!.length !== 1) throw new Error("seccomp: rules with more than one argument condition are not supported");
      const a = r.args![0]!;
      block.push([LD_W_ABS, 0, 0, argLow(a.index)]);
      if (a.op === "SCMP_CMP_EQ") block.push([JMP_JEQ_K, 0, 1, a.value]);
      else if (a.op === "SCMP_CMP_NE") block.push([JMP_JEQ_K, 1, 0, a.value]);
      else block.push([ALU_AND_K, 0, 0, a.value], [JMP_JEQ_K, 0, 1, a.valueTwo ?? 0]);
      block.push([RET_K, 0, 0, RET_ALLOW]);
    }
    block.push([RET_K, 0, 0, deny]);
    out.push([JMP_JEQ_K, 0, block.length, nr], ...block);
  }
  out.push([RET_K, 0, 0, deny]);
  return out;
}
