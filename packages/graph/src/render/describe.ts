import type { Op } from "../ops/op.ts";
import { visitOp } from "../ops/op.ts";
import type { FileAction } from "../ops/file-op.ts";
import type { Command } from "../ops/exec-op.ts";

/** A one-line human label for an op: its meta description, else a Dockerfile-like summary. */
export function describeOp(op: Op): string {
  if (op.meta?.description) return op.meta.description;
  return visitOp<string>(op, {
    SourceOp: (o) => {
      const s = o.source;
      switch (s.type) {
        case "scratch":
          return "scratch";
        case "image":
          return `image ${s.transport ? `${s.transport}:` : ""}${s.ref}${s.platform ? ` (${s.platform})` : ""}`;
        case "local":
          return `${s.name === "context" ? "context" : `context ${s.name}`}${s.path && s.path !== "." ? ` ${s.path}` : ""}`;
        case "git":
          return `git ${s.url}${s.ref ? `#${s.ref}` : ""}`;
        case "http":
          return `http ${s.url}`;
      }
    },
    ExecOp: (o) => `RUN ${commandText(o.command)}`,
    FileOp: (o) => o.actions.map(describeAction).join("; "),
    MergeOp: (o) => `merge of ${o.inputs.length}`,
    SelectOp: (o) => `stage ${o.key} (one of ${o.names.join(", ")}${o.fallback ? ", else an image" : ""})`,
  });
}

export function commandText(c: Command): string {
  return c.form === "shell" ? c.script : JSON.stringify(c.argv);
}

function describeAction(a: FileAction): string {
  switch (a.action) {
    case "copy":
      return `${a.add ? "ADD" : "COPY"} ${a.src.join(" ")} ${a.dest}`;
    case "mkdir":
      return `mkdir ${a.path}`;
    case "mkfile":
      return `mkfile ${a.path}`;
    case "rm":
      return `rm ${a.path}`;
    case "symlink":
      return `symlink ${a.path} -> ${a.target}`;
  }
}

/** Shortens a label for diagrams: first line only, at most `max` characters. */
export function shortLabel(text: string, max = 60): string {
  const first = text.split("\n", 1)[0]!.trim();
  const more = first.length < text.trim().length;
  if (first.length <= max) return more ? `${first} …` : first;
  return `${first.slice(0, max - 1)}…`;
}
