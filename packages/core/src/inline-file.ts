import { EMPTY_SCOPE, FileOp, SourceOp, type Op } from "@strata/graph";
import { isCopyFrom, type CopyFrom } from "./sources.ts";

const SCRATCH = SourceOp.create({ type: "scratch" });
const INLINE = Symbol.for("strata.inline");

/** A file written from a string, as a Dockerfile heredoc `COPY <<EOF /path` does. */
export interface InlineFile extends CopyFrom {
  readonly [INLINE]: true;
  readonly name: string;
  readonly data: string;
}

/**
 * A file with the given content, to copy: `.copy(file("app.conf", "listen 80\n"), "/etc/app/")`.
 * Like a heredoc, it is created in its own scratch filesystem and copied from there.
 */
export function file(name: string, data: string): InlineFile {
  if (!name || name.includes("/")) throw new TypeError(`file(${JSON.stringify(name)}): give a plain file name; the destination says where`);
  const op: Op = FileOp.create([SCRATCH], [{ action: "mkfile", path: `/${name}`, data, mode: 0o644 }], EMPTY_SCOPE);
  const base = { origin: { op }, paths: Object.freeze([`/${name}`]), label: "inline" } as const;
  return Object.freeze({ ...base, [Symbol.for("strata.copySource")]: true as const, [INLINE]: true as const, name, data }) as InlineFile;
}

export function isInlineFile(v: unknown): v is InlineFile {
  return isCopyFrom(v) && (v as unknown as Record<symbol, unknown>)[INLINE] === true;
}

export function scratchOp(): Op {
  return SCRATCH;
}
