import { StrataError, type ExecOp, type Mount, type Op } from "@strata/graph";
import type { SyntaxFeatures } from "./syntax.ts";
import { csvField, word } from "./words.ts";

export type InputNamer = (op: Op, input: number, what: string) => string | undefined;

/** `--mount=type=…` for one mount; `from=` names the stage, image or named context of its input. */
export function mountFlag(op: ExecOp, m: Mount, esc: string, nameInput: InputNamer, features?: SyntaxFeatures): string {
  const refuse = (what: string) => new StrataError("STRATA_EXPORT_UNSUPPORTED", `${what} cannot be written in this Dockerfile syntax`, { hint: "use a newer Dockerfile syntax (--syntax latest) where the engine supports it" });
  const kv: string[] = [`type=${m.type}`];
  const add = (k: string, v: string | number | boolean | undefined) => {
    if (v === undefined || v === false || v === "") return;
    kv.push(v === true ? k : `${k}=${csvField(typeof v === "number" ? String(v) : v)}`);
  };
  const w = (t: string | undefined, what: string) => (t === undefined ? undefined : word(t, esc, what));
  switch (m.type) {
    case "cache":
      add("target", w(m.target, "cache mount target"));
      add("id", w(m.id, "cache mount id"));
      add("sharing", m.sharing);
      if (m.input !== undefined) add("from", nameInput(op, m.input, "cache mount"));
      add("source", w(m.source, "cache mount source"));
      add("readonly", m.readonly);
      add("uid", m.uid);
      add("gid", m.gid);
      if (m.mode !== undefined) add("mode", `0${m.mode.toString(8)}`);
      break;
    case "bind":
      add("target", w(m.target, "bind mount target"));
      if (m.input !== undefined) add("from", nameInput(op, m.input, "bind mount"));
      // Left out only when it is what the importer assumes without one: `.` in a context, `/` in an image.
      if (m.source !== undefined && m.source !== defaultSource(op, m.input)) add("source", w(m.source, "bind mount source"));
      add("rw", m.readwrite);
      break;
    case "tmpfs":
      add("target", w(m.target, "tmpfs mount target"));
      if (m.size !== undefined && features && !features.tmpfsSize) throw refuse("a tmpfs mount with a size");
      add("size", m.size);
      break;
    case "secret":
      add("id", w(m.id, "secret id"));
      add("target", w(m.target, "secret target"));
      if (m.env !== undefined && features && !features.secretEnv) throw refuse("a secret mounted as an environment variable");
      add("env", m.env);
      add("required", m.required);
      add("uid", m.uid);
      add("gid", m.gid);
      if (m.mode !== undefined) add("mode", `0${m.mode.toString(8)}`);
      break;
    case "ssh":
      add("id", m.id);
      add("target", m.target);
      add("required", m.required);
      add("uid", m.uid);
      add("gid", m.gid);
      if (m.mode !== undefined) add("mode", `0${m.mode.toString(8)}`);
      break;
    default:
      throw new StrataError("STRATA_EXPORT_UNSUPPORTED", `unknown mount type ${(m as { type: string }).type}`);
  }
  return `--mount=${kv.join(",")}`;
}

function defaultSource(op: Op, input: number | undefined): string {
  const src = input === undefined ? undefined : op.inputs[input];
  return src?.kind === "SourceOp" && src.source.type === "local" ? "." : "/";
}
