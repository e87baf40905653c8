import { EMPTY_SCOPE, FileOp, narrowScope, SourceOp, type Op, type Scope } from "@strata/graph";
import { isCopyFrom, type CopyFrom } from "./sources.ts";

const SCRATCH = SourceOp.create({ type: "scratch" });
const INLINE = Symbol.for("strata.inline");
const SCRIPT = Symbol.for("strata.script");

/** Options of `file(name, data, options)`: the file's mode, and whether its content expands variables. */
export interface FileOptions {
  /** Permission bits (default `0o644`). */
  readonly mode?: number;
  /**
   * `data` reads build args and env vars (`$NAME`), expanded when copied, as an unquoted
   * Dockerfile heredoc (`COPY <<EOF`) does. Default false: the content is literal.
   */
  readonly expand?: boolean;
}

/** A file written from a string, as a Dockerfile heredoc `COPY <<EOF /path` does. */
export interface InlineFile extends CopyFrom {
  readonly [INLINE]: true;
  /** The file's name (the heredoc's delimiter word); the copy's destination says where it goes. */
  readonly name: string;
  /** The file's content. */
  readonly data: string;
  /** Its permission bits (`0o644` unless `file(…, { mode })` says otherwise). */
  readonly mode: number;
  /** Whether `$NAME` in the content expands when copied (an unquoted heredoc), or stays literal. */
  readonly expand: boolean;
}

/**
 * A file with the given content, to copy: `.copy(file("app.conf", "listen 80\n"), "/etc/app/")`.
 * Like a heredoc, it is created in its own scratch filesystem and copied from there.
 */
export function file(name: string, data: string, options: FileOptions = {}): InlineFile {
  if (!name || name.includes("/")) throw new TypeError(`file(${JSON.stringify(name)}): give a plain file name; the destination says where`);
  const mode = options.mode ?? 0o644;
  const expand = options.expand ?? false;
  const op = inlineFileOp(name, data, mode, expand, EMPTY_SCOPE);
  const base = { origin: { op }, paths: Object.freeze([`/${name}`]), label: "inline" } as const;
  return Object.freeze({ ...base, [Symbol.for("strata.copySource")]: true as const, [INLINE]: true as const, name, data, mode, expand }) as InlineFile;
}

function inlineFileOp(name: string, data: string, mode: number, expand: boolean, scope: Scope): Op {
  return FileOp.create([SCRATCH], [{ action: "mkfile", path: `/${name}`, data, mode, ...(expand ? { expand: true } : {}) }], scope);
}

/** The file's op in a stage's scope: an expanding file reads the variables in scope where it is copied. */
export function inlineFileIn(f: InlineFile, scope: Scope): Op {
  if (!f.expand) return f.origin && "op" in f.origin ? f.origin.op : inlineFileOp(f.name, f.data, f.mode, false, EMPTY_SCOPE);
  return inlineFileOp(f.name, f.data, f.mode, true, narrowScope(scope, [f.data]));
}

export function isInlineFile(v: unknown): v is InlineFile {
  return isCopyFrom(v) && (v as unknown as Record<symbol, unknown>)[INLINE] === true;
}

export function scratchOp(): Op {
  return SCRATCH;
}

/** A script run as a program, as a Dockerfile `RUN <<EOF` whose body starts with `#!` is. */
export interface Script {
  readonly [SCRIPT]: true;
  /** The file name it is run as (`/dev/pipes/<name>`; the heredoc's delimiter word, default `EOF`). */
  readonly name: string;
  /** The program, starting with its `#!` interpreter line. */
  readonly content: string;
}

/**
 * `run(script("#!/usr/bin/env python3\nprint('hi')\n"))`: the content is written to an
 * executable file mounted read-only at `/dev/pipes/<name>` for the step and run directly
 * (BuildKit's shebang heredoc), so the interpreter comes from its first line.
 */
export function script(
  content: string,
  options: {
    /** The file name it runs as (the heredoc's delimiter word); default `EOF`. */
    readonly name?: string;
  } = {},
): Script {
  const name = options.name ?? "EOF";
  if (!name || name.includes("/")) throw new TypeError(`script(): invalid name ${JSON.stringify(name)}`);
  if (!content.startsWith("#!")) throw new TypeError('script(): the content must start with "#!" (an interpreter line); use run("…") for a shell script');
  return Object.freeze({ [SCRIPT]: true as const, name, content });
}

export function isScript(v: unknown): v is Script {
  return typeof v === "object" && v !== null && (v as Record<symbol, unknown>)[SCRIPT] === true;
}

export function scriptOp(s: Script): Op {
  return FileOp.create([SCRATCH], [{ action: "mkfile", path: `/${s.name}`, data: s.content, mode: 0o755 }], EMPTY_SCOPE);
}
