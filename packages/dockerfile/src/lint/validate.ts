/**
 * What a build would refuse in a Dockerfile, decided from the file alone: every finding is an
 * error. The parser runs these checks, so `strata parse` reports exactly what `strata build`
 * (which imports through the parser) rejects, with the same codes, and `# check=skip=` (which
 * silences BuildKit's advisory rules) cannot hide them. Values that read variables are checked
 * again after expansion, when the build knows them (the graph's config fold).
 */
import { checkStopSignal, DEFAULT_MAX_WORD_BYTES, isStrataError, limitFromEnv, MAX_WORD_BYTES_ENV, wordTooLong, parsePlatform, parsePortSpec, StrataError, type ErrorCode } from "@strata/graph";
import { processShellWord } from "../shell/lex.ts";
import type { DockerfileAst, DockerfileDiagnostic, Instruction, Span, Stage } from "../parser/types.ts";

const ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** containerd's known operating systems and architectures (platforms.Parse). */
const KNOWN_OS = new Set(["aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js", "linux", "nacl", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows", "zos"]);
const KNOWN_ARCH = new Set(["386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "loong64", "mips", "mipsle", "mips64", "mips64le", "mips64p32", "mips64p32le", "ppc", "ppc64", "ppc64le", "riscv", "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm"]);

function error(code: ErrorCode, message: string, span: Span, hint?: string): DockerfileDiagnostic {
  return { code, severity: "error", message, span, ...(hint ? { hint } : {}) };
}

/**
 * Runs `check` on a literal word (one without variables) after BuildKit's word processing
 * (quotes and escapes removed; `split`: ProcessWords, several words); a coded error becomes a
 * diagnostic. A word that does not process is the parser's DF_PARSE_BAD_WORD already.
 */
function literal(word: string, span: Span, out: DockerfileDiagnostic[], esc: string, check: (w: string) => unknown, split = false): void {
  if (word.includes("$")) return;
  let words: string[];
  try {
    const r = processShellWord(word, {}, { escapeToken: esc });
    words = split ? r.words : [r.result];
  } catch {
    return;
  }
  for (const w of words) {
    try {
      check(w);
    } catch (e) {
      if (!isStrataError(e)) throw e;
      out.push(error(e.code, e.message, span, e.hint));
    }
  }
}

export function validateDockerfile(ast: DockerfileAst, env?: Readonly<Record<string, string | undefined>>): DockerfileDiagnostic[] {
  const out: DockerfileDiagnostic[] = [];
  checkWordBounds(ast, out, env);
  for (const a of ast.globalArgs) checkArgNames(a, out);
  const firstIndex = new Map<string, number>();
  for (const stage of ast.stages) {
    const from = stage.from;
    const name = stage.name;
    if (name !== undefined) {
      if (firstIndex.has(name)) {
        out.push(error("DF_DUPLICATE_STAGE_NAME", `duplicate stage name ${JSON.stringify(name)} (stage ${firstIndex.get(name)} has it)`, from.span, "give every stage its own name; --target and --from could not tell them apart"));
      } else firstIndex.set(name, stage.index);
    }
    if (from.platform !== undefined) literal(from.platform, from.span, out, ast.escapeToken, checkPlatform);
    for (const ins of stage.instructions) checkInstruction(ins, out, ast.escapeToken);
  }
  checkStageReferences(ast.stages, out);
  return out;
}

function checkInstruction(ins: Instruction, out: DockerfileDiagnostic[], esc: string): void {
  switch (ins.kind) {
    case "ARG":
      checkArgNames(ins, out);
      break;
    case "EXPOSE":
      for (const p of ins.ports) literal(p, ins.span, out, esc, parsePortSpec, true);
      break;
    case "STOPSIGNAL":
      literal(ins.signal, ins.span, out, esc, checkStopSignal);
      break;
    default:
      break;
  }
}

function checkArgNames(ins: Extract<Instruction, { kind: "ARG" }>, out: DockerfileDiagnostic[]): void {
  for (const a of ins.args) {
    if (!ARG_NAME.test(a.name)) {
      out.push(error("DF_BAD_ARG_NAME", `invalid build arg name ${JSON.stringify(a.name)}`, ins.span, "a build arg name is letters, digits and _, not starting with a digit (no quotes, no spaces)"));
    }
  }
}

function checkPlatform(text: string): void {
  let ok = false;
  try {
    const p = parsePlatform(text);
    ok = KNOWN_OS.has(p.os.toLowerCase()) && KNOWN_ARCH.has(p.architecture.toLowerCase());
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new StrataError("STRATA_BAD_PLATFORM", `invalid platform ${JSON.stringify(text)}`, { hint: "write os/arch[/variant] with a known os and architecture, e.g. linux/amd64, linux/arm64/v8, or a build arg ($BUILDPLATFORM)" });
  }
}

/**
 * ARG and ENV values that read each other are expanded in order, as the build will: a chain
 * of doubling ARGs (`ARG B=$A$A`, `ARG C=$B$B`, …) is reported at the first value over the
 * bound, instead of being discovered by a build that runs out of memory.
 */
function checkWordBounds(ast: DockerfileAst, out: DockerfileDiagnostic[], env: Readonly<Record<string, string | undefined>> | undefined): void {
  const esc = ast.escapeToken;
  let max = DEFAULT_MAX_WORD_BYTES;
  try {
    // The build reads the same variable: a raised bound must pass both.
    max = limitFromEnv(MAX_WORD_BYTES_ENV, DEFAULT_MAX_WORD_BYTES, env);
  } catch (e) {
    if (isStrataError(e)) out.push(error(e.code, e.message, ast.stages[0]?.from.span ?? { start: { line: 1, column: 1 }, end: { line: 1, column: 1 } }, e.hint));
  }
  const expand = (vars: Map<string, string>, word: string, span: Span, what: string): string | undefined => {
    try {
      return processShellWord(word, (n) => vars.get(n), { escapeToken: esc, maxWordBytes: max }).result;
    } catch (e) {
      if ((e as { code?: string }).code === "STRATA_WORD_TOO_LONG") {
        const w = wordTooLong(max, what);
        out.push(error(w.code, w.message, span, w.hint));
      }
      return undefined;
    }
  };
  const globals = new Map<string, string>();
  for (const a of ast.globalArgs) {
    for (const x of a.args) {
      const v = x.default === undefined ? undefined : expand(globals, x.default, a.span, `ARG ${x.name}`);
      if (v === undefined) globals.delete(x.name);
      else globals.set(x.name, v);
    }
  }
  for (const stage of ast.stages) {
    const vars = new Map<string, string>();
    for (const ins of stage.instructions) {
      if (ins.kind === "ARG") {
        for (const x of ins.args) {
          const v = x.default === undefined ? globals.get(x.name) : expand(vars, x.default, ins.span, `ARG ${x.name}`);
          if (v === undefined) vars.delete(x.name);
          else vars.set(x.name, v);
        }
      } else if (ins.kind === "ENV") {
        const before = new Map(vars);
        for (const p of ins.pairs) {
          const v = expand(before, p.value, ins.span, `ENV ${p.key}`);
          if (v === undefined) vars.delete(p.key);
          else vars.set(p.key, v);
        }
      }
    }
  }
}

/**
 * `COPY --from=NAME` and `RUN --mount=from=NAME` naming the stage they are in, or a stage that
 * (directly or not) copies from it, are a cycle — BuildKit's "circular dependency" — never a
 * pull of an image called NAME. A reference to a later stage that is no cycle is refused too:
 * the importer converts stages in file order and would otherwise pull an image of that name.
 */
function checkStageReferences(stages: readonly Stage[], out: DockerfileDiagnostic[]): void {
  const byName = new Map<string, number>();
  for (const s of stages) if (s.name !== undefined && !byName.has(s.name)) byName.set(s.name, s.index);
  const refsOf = (s: Stage): Array<{ target: number; span: Span; name: string }> => {
    const refs: Array<{ target: number; span: Span; name: string }> = [];
    const add = (name: string | undefined, span: Span) => {
      if (name === undefined || name.includes("$")) return;
      const target = byName.get(name.toLowerCase()) ?? (/^\d+$/.test(name) ? Number(name) : undefined);
      if (target !== undefined && target < stages.length) refs.push({ target, span, name });
    };
    for (const ins of s.instructions) {
      if (ins.kind === "COPY") add(ins.from, ins.span);
      if (ins.kind === "RUN") for (const m of ins.mounts) add(m.from, ins.span);
    }
    return refs;
  };
  const edges = stages.map(refsOf);
  const reaches = (from: number, to: number): boolean => {
    const seen = new Set<number>();
    const stack = [from];
    while (stack.length) {
      const n = stack.pop()!;
      if (n === to) return true;
      if (seen.has(n)) continue;
      seen.add(n);
      for (const e of edges[n] ?? []) stack.push(e.target);
    }
    return false;
  };
  for (const s of stages) {
    for (const r of edges[s.index]!) {
      if (r.target < s.index) continue;
      const label = stages[s.index]!.name ?? String(s.index);
      if (r.target === s.index) {
        out.push(error("DF_STAGE_CYCLE", `circular dependency: stage ${JSON.stringify(label)} reads itself (--from=${r.name})`, r.span, "a stage can copy only from other stages (or an image: write its full reference, e.g. docker.io/library/name)"));
      } else if (reaches(r.target, s.index)) {
        out.push(error("DF_STAGE_CYCLE", `circular dependency: stage ${JSON.stringify(label)} reads stage ${JSON.stringify(r.name)}, which needs stage ${JSON.stringify(label)}`, r.span, "a stage can copy only from stages that do not depend on it"));
      } else {
        out.push(error("DF_STAGE_ORDER", `stage ${JSON.stringify(r.name)} is defined after the stage that reads it`, r.span, "move the stage above the instruction that reads it"));
      }
    }
  }
}
