/**
 * BuildKit's build checks (https://docs.docker.com/reference/build-checks/) that can be
 * decided from the file alone. Each finding is a warning with the rule's name; the
 * `# check=` directive (skip / error) is applied by the parser afterwards.
 */
import type { ErrorCode } from "@strata/graph";
import { processShellWord } from "../shell/lex.ts";
import type { DockerfileAst, DockerfileDiagnostic, Instruction, Span } from "../parser/types.ts";

const PREDEFINED = new Set([
  "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT",
  "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT", "TARGETSTAGE",
  "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
  "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "SOURCE_DATE_EPOCH",
]);
const SECRET = /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pat|secret|token)(?:_|$)/i;
const SECRET_ALLOW = /(?:_|^)(?:public)(?:_|$)/i;
const RESERVED_STAGE = new Set(["scratch", "context"]);

function warn(rule: string, message: string, span: Span, hint?: string): DockerfileDiagnostic {
  const code: ErrorCode = `DF_LINT_${rule.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/([A-Z])([A-Z][a-z])/g, "$1_$2").toUpperCase()}`;
  return { code, severity: "warning", rule, message, span, ...(hint ? { hint } : {}) };
}

/** The variable names a word reads that `defined` does not know. */
function undefinedNames(word: string, defined: (n: string) => boolean, escapeToken: string): string[] {
  try {
    const r = processShellWord(word, (n) => (defined(n) ? "x" : undefined), { escapeToken });
    return [...r.unmatched];
  } catch {
    return [];
  }
}

export function lintDockerfile(ast: DockerfileAst): DockerfileDiagnostic[] {
  const out: DockerfileDiagnostic[] = [];
  const esc = ast.escapeToken;
  const globalArgs = new Map<string, string | undefined>();
  // Global ARG defaults may use earlier global ARGs (`ARG B=${A}`): expand in order.
  for (const a of ast.globalArgs) {
    for (const x of a.args) {
      let v = x.default;
      if (v !== undefined) {
        try {
          v = processShellWord(v, (n) => globalArgs.get(n), { escapeToken: esc }).result;
        } catch {
          v = undefined;
        }
      }
      globalArgs.set(x.name, v);
    }
  }

  // ConsistentInstructionCasing: compare with the majority.
  let upper = 0;
  let lower = 0;
  for (const i of ast.instructions) {
    const c = letterCase(i.keyword);
    if (c === 1) upper++;
    else if (c === 2) lower++;
  }
  const majority = upper >= lower ? "uppercase" : "lowercase";
  for (const i of ast.instructions) {
    const c = letterCase(i.keyword);
    const ok = majority === "uppercase" ? c === 1 || c === 0 : c === 2 || c === 0;
    if (!ok) out.push(warn("ConsistentInstructionCasing", `Command '${i.keyword}' should match the case of the command majority (${majority})`, i.span));
  }

  const stageNames = new Map<string, number>();
  const scratchBased = new Set<string>();
  for (const stage of ast.stages) {
    const from = stage.from;
    // Stage names.
    if (from.stageName !== undefined) {
      if (from.stageName !== from.stageName.toLowerCase()) out.push(warn("StageNameCasing", `Stage name '${from.stageName}' should be lowercase`, from.span));
      const lowerName = from.stageName.toLowerCase();
      // A duplicate stage name is an error (DF_DUPLICATE_STAGE_NAME, lint/validate.ts), as in BuildKit.
      stageNames.set(lowerName, stage.index);
      if (RESERVED_STAGE.has(lowerName)) out.push(warn("ReservedStageName", `Stage name should not use the same name as reserved stage '${lowerName}'`, from.span));
      const kwUpper = from.keyword === from.keyword.toUpperCase();
      const asUpper = from.asKeyword === from.asKeyword?.toUpperCase();
      const kwLower = from.keyword === from.keyword.toLowerCase();
      const asLower = from.asKeyword === from.asKeyword?.toLowerCase();
      if ((kwUpper && !asUpper) || (kwLower && !asLower)) {
        out.push(warn("FromAsCasing", `'${from.asKeyword}' and '${from.keyword}' keywords' casing do not match`, from.span));
      }
    }
    // FROM arguments.
    const inFrom = (n: string) => globalArgs.has(n) || PREDEFINED.has(n);
    for (const n of [...undefinedNames(from.image, inFrom, esc), ...(from.platform ? undefinedNames(from.platform, inFrom, esc) : [])]) {
      out.push(warn("UndefinedArgInFrom", `FROM argument '${n}' is not declared`, from.span));
    }
    if (from.platform !== undefined) {
      if (/^\$\{?TARGETPLATFORM\}?$/.test(from.platform)) {
        out.push(warn("RedundantTargetPlatform", "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior", from.span));
      } else if (!from.platform.includes("$")) {
        out.push(warn("FromPlatformFlagConstDisallowed", `FROM --platform flag should not use constant value ${JSON.stringify(from.platform)}`, from.span));
      }
    }
    if (from.image.includes("$")) {
      let image: string | undefined;
      try {
        image = processShellWord(from.image, (n) => globalArgs.get(n) ?? (PREDEFINED.has(n) ? "x" : undefined), { escapeToken: esc }).result;
      } catch {
        image = undefined;
      }
      if (image !== undefined && (image === "" || /(^[:@]|[:@]$|^[^a-zA-Z0-9])/.test(image))) {
        out.push(warn("InvalidDefaultArgInFrom", `Default value for ARG ${from.image} results in empty or invalid base image name`, from.span));
      }
    }
    const baseLower = from.image.toLowerCase();
    const knownEnv = baseLower === "scratch" || scratchBased.has(baseLower);
    if (knownEnv && stage.name) scratchBased.add(stage.name);

    // Per-instruction rules.
    const defined = new Set<string>();
    const counts = new Map<string, Instruction[]>();
    let absoluteWorkdir = false;
    const isDefined = (n: string) => defined.has(n) || PREDEFINED.has(n);
    const checkUndefined = (i: Instruction, words: readonly string[]) => {
      if (!knownEnv) return;
      for (const w of words) for (const n of undefinedNames(w, isDefined, esc)) out.push(warn("UndefinedVar", `Usage of undefined variable '$${n}'`, i.span));
    };
    for (const i of stage.instructions) {
      switch (i.kind) {
        case "CMD":
        case "ENTRYPOINT":
          if (i.command.form === "shell") {
            out.push(warn("JSONArgsRecommended", `JSON arguments recommended for ${i.kind} to prevent unintended behavior related to OS signals`, i.span,
              `Write it as a JSON array: ${i.kind} ${JSON.stringify(["/bin/sh", "-c", i.command.script])}, or exec the program directly.`));
          }
          push(counts, i.kind, i);
          break;
        case "HEALTHCHECK":
          push(counts, i.kind, i);
          break;
        case "MAINTAINER":
          out.push(warn("MaintainerDeprecated", "Maintainer instruction is deprecated in favor of using label", i.span, `Use LABEL org.opencontainers.image.authors=${JSON.stringify(i.maintainer)}`));
          break;
        case "ENV":
        case "LABEL":
          checkUndefined(i, i.pairs.flatMap((p) => [p.key, p.value]));
          if (i.legacy) {
            out.push(warn("LegacyKeyValueFormat", `"${i.kind} key=value" should be used instead of legacy "${i.kind} key value" format`, i.span));
          }
          if (i.kind === "ENV") {
            for (const p of i.pairs) {
              if (SECRET.test(p.key) && !SECRET_ALLOW.test(p.key)) out.push(warn("SecretsUsedInArgOrEnv", `Do not use ARG or ENV instructions for sensitive data (ENV ${JSON.stringify(p.key)})`, i.span));
              defined.add(p.key);
            }
          }
          break;
        case "ARG":
          checkUndefined(i, i.args.flatMap((a) => (a.default !== undefined ? [a.default] : [])));
          for (const a of i.args) {
            if (SECRET.test(a.name) && !SECRET_ALLOW.test(a.name)) out.push(warn("SecretsUsedInArgOrEnv", `Do not use ARG or ENV instructions for sensitive data (ARG ${JSON.stringify(a.name)})`, i.span));
            defined.add(a.name);
          }
          break;
        case "WORKDIR":
          checkUndefined(i, [i.path]);
          if (i.path.startsWith("/") || i.path.startsWith("$") || /^[A-Za-z]:[\\/]/.test(i.path)) absoluteWorkdir = true;
          else if (!absoluteWorkdir) out.push(warn("WorkdirRelativePath", `Relative workdir '${i.path}' can have unexpected results if the base image changes`, i.span));
          break;
        case "EXPOSE":
          checkUndefined(i, i.ports);
          for (const p of i.ports) {
            if (p.includes(":")) out.push(warn("ExposeInvalidFormat", `EXPOSE instruction should not define an IP address or host-port mapping, found '${p}'`, i.span));
            const slash = p.indexOf("/");
            if (slash >= 0 && p.slice(slash + 1) !== p.slice(slash + 1).toLowerCase()) {
              out.push(warn("ExposeProtoCasing", `Defined protocol '${p}' in EXPOSE instruction should be lowercase`, i.span));
            }
          }
          break;
        case "COPY":
        case "ADD":
          checkUndefined(i, [...i.sources.flatMap((s) => (s.type === "path" ? [s.path] : [])), i.dest]);
          break;
        case "USER":
          checkUndefined(i, [i.user]);
          break;
        case "STOPSIGNAL":
          checkUndefined(i, [i.signal]);
          break;
        case "VOLUME":
          checkUndefined(i, i.paths);
          break;
        default:
          break;
      }
    }
    for (const [kind, list] of counts) {
      for (const i of list.slice(0, -1)) {
        out.push(warn("MultipleInstructionsDisallowed", `Multiple ${kind} instructions should not be used in the same stage because only the last one will be used`, i.span));
      }
    }
  }
  for (const a of ast.globalArgs) {
    for (const x of a.args) {
      if (SECRET.test(x.name) && !SECRET_ALLOW.test(x.name)) out.push(warn("SecretsUsedInArgOrEnv", `Do not use ARG or ENV instructions for sensitive data (ARG ${JSON.stringify(x.name)})`, a.span));
    }
  }
  return out;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

/** 1: no lower-case ASCII letter, 2: no upper-case one, 3: mixed, 0: no letters. Keywords are ASCII. */
function letterCase(s: string): number {
  let up = false;
  let low = false;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c >= 65 && c <= 90) up = true;
    else if (c >= 97 && c <= 122) low = true;
    else if (c > 127) return s === s.toUpperCase() ? (s === s.toLowerCase() ? 0 : 1) : s === s.toLowerCase() ? 2 : 3;
  }
  return up ? (low ? 3 : 1) : low ? 2 : 0;
}
