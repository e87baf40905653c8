import { StrataError } from "@strata/graph";
import type { ParsedMount, Span } from "@strata/dockerfile";
import type { ts } from "ts-morph";
import { coreCall, spanLocation, type GenContext } from "./context.ts";
import { num, octal, options, str, bool } from "./literals.ts";
import { mountSource } from "./sources.ts";
import { tstr } from "./template-text.ts";
import { tpl } from "./words.ts";

/** `RUN --mount=…` → `cache(…)`, `bind(…)`, `tmpfs(…)`, `secret(…)`, `ssh(…)`, with the importer's defaults (import/mounts.ts). */
export function mountExpr(ctx: GenContext, m: ParsedMount, span: Span): ts.Expression {
  const t = (v: string | undefined, what: string) => (v === undefined ? undefined : tpl(ctx, v, span, what));
  const ids: Array<readonly [string, ts.Expression | undefined]> = [
    ["uid", m.uid !== undefined ? num(m.uid) : undefined],
    ["gid", m.gid !== undefined ? num(m.gid) : undefined],
    ["mode", m.mode !== undefined ? octal(m.mode) : undefined],
  ];
  switch (m.type) {
    case "cache": {
      const id = t(m.id, "cache id");
      const seed = m.from !== undefined ? mountSource(ctx, m.from, m.source, span, "cache source") : undefined;
      const opts = options([
        ["id", id !== undefined ? tstr(id) : undefined],
        ["sharing", m.sharing ? str(m.sharing) : undefined],
        ["from", seed],
        ["readonly", m.readOnlyExplicit && m.readOnly ? bool(true) : undefined],
        ...ids,
      ]);
      return coreCall(ctx, "cache", [tstr(t(m.target ?? "", "cache target")!), ...(opts ? [opts] : [])]);
    }
    case "bind": {
      const from = mountSource(ctx, m.from, m.source, span, "bind source");
      const opts = m.readOnly ? undefined : options([["readwrite", bool(true)]]);
      return coreCall(ctx, "bind", [from, tstr(t(m.target ?? "", "bind target")!), ...(opts ? [opts] : [])]);
    }
    case "tmpfs": {
      const opts = options([["size", m.size !== undefined ? num(m.size) : undefined]]);
      return coreCall(ctx, "tmpfs", [tstr(t(m.target ?? "", "tmpfs target")!), ...(opts ? [opts] : [])]);
    }
    case "secret": {
      const target = t(m.target, "secret target");
      // BuildKit: the id defaults to the target's base name; the target to /run/secrets/<id>.
      const id = t(m.id, "secret id") ?? (target ? target.split("/").filter(Boolean).pop() : undefined);
      if (!id) throw new StrataError("STRATA_IMPORT_BAD_MOUNT", "a secret mount needs an id or a target", { locations: [spanLocation(ctx, span)] });
      const opts = options([
        ["target", target !== undefined ? tstr(target) : undefined],
        ["env", m.env !== undefined ? str(m.env) : undefined],
        ["required", m.required ? bool(true) : undefined],
        ...ids,
      ]);
      return coreCall(ctx, "secret", [tstr(id), ...(opts ? [opts] : [])]);
    }
    case "ssh": {
      const opts = options([
        ["id", m.id !== undefined ? str(m.id) : undefined],
        ["target", m.target !== undefined ? str(m.target) : undefined],
        ["required", m.required ? bool(true) : undefined],
        ...ids,
      ]);
      return coreCall(ctx, "ssh", opts ? [opts] : []);
    }
  }
}
