/**
 * BuildKit expands many words when it converts the file (COPY paths, ENV values, WORKDIR, …)
 * and rejects the build when one is malformed (`COPY "a b" /c` splits into `"a` and `b"`,
 * an unterminated quote). The parse has all it needs to say so up front.
 */
import { processShellWord } from "../shell/lex.ts";
import type { Instruction } from "./types.ts";

/** The words of an instruction that BuildKit runs through ProcessWord. */
function expandedWords(i: Instruction): string[] {
  switch (i.kind) {
    case "FROM":
      return [i.image, ...(i.platform !== undefined ? [i.platform] : [])];
    case "ARG": {
      const out: string[] = [];
      for (const a of i.args) if (a.default !== undefined) out.push(a.default);
      return out;
    }
    case "ENV":
    case "LABEL": {
      const out: string[] = [];
      for (const p of i.pairs) out.push(p.key, p.value);
      return out;
    }
    case "COPY":
    case "ADD": {
      const out: string[] = [];
      for (const s of i.sources) if (s.type === "path") out.push(s.path);
      out.push(i.dest);
      if (i.chown !== undefined) out.push(i.chown);
      if (i.chmod !== undefined) out.push(i.chmod);
      if (i.kind === "COPY" && i.from !== undefined) out.push(i.from);
      return out;
    }
    case "EXPOSE":
      return [...i.ports];
    case "USER":
      return [i.user];
    case "WORKDIR":
      return [i.path];
    case "VOLUME":
      return [...i.paths];
    case "STOPSIGNAL":
      return [i.signal];
    default:
      return [];
  }
}

/** The first word BuildKit would fail to process, with its message. */
export function checkWords(i: Instruction, escapeToken: string): { word: string; message: string } | undefined {
  for (const word of expandedWords(i)) {
    if (!needsCheck(word)) continue;
    try {
      // Every variable "set": only the syntax is checked, not values.
      processShellWord(word, () => "x", { escapeToken });
    } catch (e) {
      return { word, message: e instanceof Error ? e.message : String(e) };
    }
  }
  return undefined;
}

/** Only words with a quote, `$` or an escape character can be malformed. */
function needsCheck(w: string): boolean {
  for (let k = 0; k < w.length; k++) {
    const c = w.charCodeAt(k);
    if (c === 0x22 || c === 0x27 || c === 0x24 || c === 0x5c || c === 0x60) return true;
  }
  return false;
}
