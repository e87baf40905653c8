import { StrataError } from "@strata/graph";
import { bind, cache, context, dockerDaemon, from, secret, ssh, tmpfs, type CopyFrom, type Directory, type Image, type RunMount } from "@strata/core";
import type { ParsedMount, Span } from "../parser/types.ts";
import type { ImportContext } from "./context.ts";
import { tpl } from "./words.ts";

/** A `--from=` value: a stage (by name or index), a named build context, else an image reference. */
export function resolveFrom(ctx: ImportContext, name: string, span: Span): { stage: Image } | { image: Image } | { dir: Directory } {
  const lower = name.toLowerCase();
  const byName = ctx.stagesByName.get(lower);
  if (byName) return { stage: byName };
  if (/^\d+$/.test(name)) {
    const byIndex = ctx.stagesByIndex[Number(name)];
    if (!byIndex) throw new StrataError("STRATA_IMPORT_BAD_FROM", `--from=${name}: there is no stage ${name} before this instruction`, { locations: [ctx.loc(span)] });
    return { stage: byIndex };
  }
  if (ctx.namedContexts.has(name)) return { dir: context(".", { name }) };
  const ref = tpl(ctx, name, span, "--from");
  return { image: from(ctx.daemonImages.has(ref) ? dockerDaemon(ref) : ref, { args: [] }) };
}

/** Paths inside a `--from` source (stage or image), or inside the build context when there is none. */
function fromPaths(ctx: ImportContext, fromName: string | undefined, source: string | undefined, span: Span, what: string): CopyFrom {
  if (fromName === undefined) return buildContext(ctx).path(source === undefined ? "." : tpl(ctx, source, span, what));
  const r = resolveFrom(ctx, fromName, span);
  if ("dir" in r) return r.dir.path(source === undefined ? "." : contextRelative(tpl(ctx, source, span, what)));
  const img = "stage" in r ? r.stage : r.image;
  return img.path(source === undefined ? "/" : tpl(ctx, source, span, what));
}

/** A `--from=<named context>` path: rooted at the context (`/a` is `a`, `/` is `.`). */
export function contextRelative(path: string): string {
  return path.replace(/^\/+/, "") || ".";
}

export function buildContext(ctx: ImportContext) {
  const dir = ctx.contextPath ?? ".";
  return ctx.contextExclude?.length ? context(dir, { exclude: ctx.contextExclude }) : context(dir);
}

/** `RUN --mount=…` → the typed mount the builders take. */
export function toMount(ctx: ImportContext, m: ParsedMount, span: Span): RunMount {
  const t = (v: string | undefined, what: string) => (v === undefined ? undefined : tpl(ctx, v, span, what));
  const mode = m.mode !== undefined ? { mode: m.mode } : {};
  const ids = { ...(m.uid !== undefined ? { uid: m.uid } : {}), ...(m.gid !== undefined ? { gid: m.gid } : {}), ...mode };
  switch (m.type) {
    case "cache": {
      const id = t(m.id, "cache id");
      const seed = m.from !== undefined ? fromPaths(ctx, m.from, m.source, span, "cache source") : undefined;
      return cache(t(m.target ?? "", "cache target")!, {
        ...(id !== undefined ? { id } : {}),
        ...(m.sharing ? { sharing: m.sharing } : {}),
        ...(seed ? { from: seed } : {}),
        ...(m.readOnlyExplicit && m.readOnly ? { readonly: true } : {}),
        ...ids,
      });
    }
    // An empty target is the working directory (BuildKit joins it onto WORKDIR).
    case "bind":
      return bind(fromPaths(ctx, m.from, m.source, span, "bind source"), t(m.target ?? "", "bind target")!, m.readOnly ? {} : { readwrite: true });
    case "tmpfs":
      return tmpfs(t(m.target ?? "", "tmpfs target")!, m.size !== undefined ? { size: m.size } : {});
    case "secret": {
      const target = t(m.target, "secret target");
      // BuildKit: the id defaults to the target's base name; the target to /run/secrets/<id>.
      const id = t(m.id, "secret id") ?? (target ? target.split("/").filter(Boolean).pop() : undefined);
      if (!id) throw new StrataError("STRATA_IMPORT_BAD_MOUNT", "a secret mount needs an id or a target", { locations: [ctx.loc(span)] });
      return secret(id, {
        ...(target !== undefined ? { target } : {}),
        ...(m.env !== undefined ? { env: m.env } : {}),
        ...(m.required ? { required: true } : {}),
        ...ids,
      });
    }
    case "ssh":
      return ssh({
        ...(m.id !== undefined ? { id: m.id } : {}),
        ...(m.target !== undefined ? { target: m.target } : {}),
        ...(m.required ? { required: true } : {}),
        ...ids,
      });
  }
}
