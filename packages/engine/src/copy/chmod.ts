import { StrataError } from "@strata/graph";

/** A `--chmod` value: maps a source entry's mode to the copied entry's mode. */
export type ModeChange = (mode: number, isDir: boolean) => number;

const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_ISVTX = 0o1000;
const STANDARD = 0o7777 & ~S_ISVTX; // u, g, o bits with setuid/setgid: BSD's STANDARD_BITS
const RWXU = 0o700;
const RWXG = 0o070;
const RWXO = 0o007;

/**
 * Parses `--chmod` as current BuildKit does: an octal number (at most 07777) sets the mode
 * exactly, special bits included; anything else is a chmod(1) symbolic mode (BSD `setmode`
 * semantics as in the Go `dchapes/mode` package BuildKit uses: `u+x`, `go-w`, `a=rX`,
 * `g=u`, `+t`…; `X` adds execute to directories and to files already executable by
 * someone). A clause without a who (`+x`) is masked by the umask, 022 unless given.
 * Docker 20.10's BuildKit knew octal only, and kept the source's special bits.
 */
export function parseChmod(spec: string, umask = 0o022): ModeChange {
  if (/^[0-9]/.test(spec)) {
    if (!/^[0-7]+$/.test(spec) || parseInt(spec, 8) > 0o7777) {
      throw new StrataError("STRATA_COPY_BAD_CHMOD", `invalid --chmod value ${JSON.stringify(spec)}: it should be octal and between 0 and 07777`);
    }
    const m = parseInt(spec, 8);
    return () => m;
  }
  const cmds = parseSymbolic(spec, ~umask & 0o7777);
  return (mode, isDir) => applyCmds(cmds, mode & 0o7777, isDir);
}

interface Cmd {
  readonly op: "+" | "-" | "X" | "u" | "g" | "o";
  readonly bits: number;
  /** For copy ops: which classes to set/clear. */
  readonly targets?: { u: boolean; g: boolean; o: boolean };
  readonly set?: boolean;
  readonly clear?: boolean;
}

function bad(spec: string): StrataError {
  return new StrataError("STRATA_COPY_BAD_CHMOD", `invalid --chmod value ${JSON.stringify(spec)}`, {
    hint: "use octal (755) or chmod symbolic modes (u+x,go-w, a=rX)",
  });
}

function parseSymbolic(spec: string, mask: number): Cmd[] {
  if (spec === "") throw bad(spec);
  const cmds: Cmd[] = [];
  const add = (op: string, who: number, arg: number | string): void => {
    if (op === "=") {
      cmds.push({ op: "-", bits: who !== 0 ? who : STANDARD });
      op = "+";
    }
    if (op === "+" || op === "-" || op === "X") {
      cmds.push({ op, bits: who !== 0 ? who & (arg as number) : mask & (arg as number) });
      return;
    }
    // Copy the bits of class `op` ('u', 'g' or 'o') to the selected classes.
    const targets = who !== 0 ? { u: (who & 0o400) !== 0, g: (who & 0o040) !== 0, o: (who & 0o004) !== 0 } : { u: true, g: true, o: true };
    const bits = who !== 0 ? ~0 : mask;
    cmds.push({ op: op as "u" | "g" | "o", bits, targets, set: arg === "+" || arg === "=", clear: arg === "-" || arg === "=" });
  };
  let s = spec;
  let equalOpDone = false;
  for (;;) {
    let who = 0;
    for (;;) {
      const c = s[0];
      if (c === "a") who |= STANDARD;
      else if (c === "u") who |= S_ISUID | RWXU;
      else if (c === "g") who |= S_ISGID | RWXG;
      else if (c === "o") who |= RWXO;
      else break;
      s = s.slice(1);
    }
    // One or more operations for this who list.
    for (;;) {
      const op = s[0];
      if (op !== "+" && op !== "-" && op !== "=") throw bad(spec);
      s = s.slice(1);
      if (op === "=") equalOpDone = false;
      who &= ~S_ISVTX;
      let perm = 0;
      let permX = 0;
      for (;;) {
        const b = s[0];
        if (b === "r") perm |= 0o444;
        else if (b === "w") perm |= 0o222;
        else if (b === "x") perm |= 0o111;
        else if (b === "X") {
          if (op === "+") permX = 0o111;
        } else if (b === "s") {
          if (who === 0 || (who & ~RWXO) !== 0) perm |= S_ISUID | S_ISGID;
        } else if (b === "t") {
          if (who === 0 || (who & ~RWXO) !== 0) {
            who |= S_ISVTX;
            perm |= S_ISVTX;
          }
        } else if (b === "u" || b === "g" || b === "o") {
          if (perm !== 0) {
            add(op, who, perm);
            perm = 0;
          }
          if (op === "=") equalOpDone = true;
          if (permX !== 0) {
            add("X", who, permX);
            permX = 0;
          }
          add(b, who, op);
        } else {
          if (perm !== 0 || (op === "=" && !equalOpDone)) {
            if (op === "=") equalOpDone = true;
            add(op, who, perm);
            perm = 0;
          }
          if (permX !== 0) {
            add("X", who, permX);
            permX = 0;
          }
          break;
        }
        s = s.slice(1);
      }
      if (s === "" || s[0] === ",") break;
    }
    if (s === "") break;
    s = s.slice(1);
    if (s === "") throw bad(spec);
  }
  return cmds;
}

function applyCmds(cmds: readonly Cmd[], omode: number, isDir: boolean): number {
  let m = omode;
  for (const c of cmds) {
    switch (c.op) {
      case "+":
        m |= c.bits;
        break;
      case "-":
        m &= ~c.bits;
        break;
      case "X":
        if ((omode & 0o111) !== 0 || isDir) m |= c.bits;
        break;
      default: {
        const value = c.op === "u" ? (m & RWXU) >> 6 : c.op === "g" ? (m & RWXG) >> 3 : m & RWXO;
        const t = c.targets as { u: boolean; g: boolean; o: boolean };
        if (c.clear) {
          const clr = c.set ? RWXO : value;
          if (t.u) m &= ~((clr << 6) & c.bits);
          if (t.g) m &= ~((clr << 3) & c.bits);
          if (t.o) m &= ~(clr & c.bits);
        }
        if (c.set) {
          if (t.u) m |= (value << 6) & c.bits;
          if (t.g) m |= (value << 3) & c.bits;
          if (t.o) m |= value & c.bits;
        }
      }
    }
  }
  return m & 0o7777;
}
