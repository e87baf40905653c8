import { formatDuration, StrataError } from "@strata/graph";
import { file, git, http, script, sh, type CopyFrom, type Image, type ShellCommand } from "@strata/core";
import { parseHeredoc } from "../parser/raw-parser.ts";
import { heredocText } from "../parser/heredoc.ts";
import type { CommandForm, Instruction } from "../parser/types.ts";
import type { ImportContext } from "./context.ts";
import { buildContext, contextRelative, resolveFrom, toMount } from "./mounts.ts";
import { heredocTemplate, hasRefs, tpl, tpls } from "./words.ts";

/** Applies one instruction of a stage to its image. */
export function applyInstruction(img: Image, ins: Instruction, ctx: ImportContext): Image {
  const t = (raw: string, what: string) => tpl(ctx, raw, ins.span, what);
  switch (ins.kind) {
    case "ARG": {
      // Without a default, an ARG re-declaring a global one reads the global value (the builders know the globals).
      let out = img;
      for (const a of ins.args) out = a.default !== undefined ? out.arg(a.name, t(a.default, `ARG ${a.name}`)) : out.arg(a.name);
      return out;
    }
    case "ENV":
      return img.env(Object.fromEntries(ins.pairs.map((p) => [p.key, t(p.value, `ENV ${p.key}`)])));
    case "LABEL":
      return img.label(Object.fromEntries(ins.pairs.map((p) => [t(p.key, "LABEL key"), t(p.value, `LABEL ${p.key}`)])));
    case "RUN":
      return run(img, ins, ctx);
    case "CMD":
      return img.cmd(command(ins.command));
    case "ENTRYPOINT":
      return img.entrypoint(command(ins.command));
    case "COPY":
    case "ADD":
      return copy(img, ins, ctx);
    case "WORKDIR":
      return img.workdir(t(ins.path, "WORKDIR"));
    case "USER":
      return img.user(t(ins.user, "USER"));
    case "EXPOSE": {
      const ports = ins.ports.flatMap((p) => tpls(ctx, p, ins.span, "EXPOSE"));
      if (!ports.length) return img;
      return img.expose(...(ports as [never, ...never[]]));
    }
    case "VOLUME": {
      const paths = ins.json ? ins.paths.map((p) => t(p, "VOLUME")) : ins.paths.flatMap((p) => tpls(ctx, p, ins.span, "VOLUME"));
      if (!paths.length) return img;
      return img.volume(...(paths as [string, ...string[]]));
    }
    case "HEALTHCHECK": {
      if (ins.type === "NONE") return img.healthcheck("none");
      const opts: Record<string, string | number> = {};
      const dur = (key: string, d: { nanoseconds: number } | undefined) => {
        if (d?.nanoseconds) opts[key] = formatDuration(d.nanoseconds);
      };
      dur("interval", ins.interval);
      dur("timeout", ins.timeout);
      dur("startPeriod", ins.startPeriod);
      dur("startInterval", ins.startInterval);
      if (ins.retries) opts.retries = ins.retries;
      return img.healthcheck(command(ins.command!), opts as never);
    }
    case "STOPSIGNAL":
      return img.stopSignal(t(ins.signal, "STOPSIGNAL") as never);
    case "SHELL":
      return img.shell(ins.shell as [string, ...string[]]);
    case "MAINTAINER":
      return img.author(ins.maintainer);
    case "ONBUILD": {
      // A trigger with heredocs keeps their bodies, so the trigger runs as written.
      const docs = ins.instruction && "heredocs" in ins.instruction ? ins.instruction.heredocs : [];
      return img.onbuild(ins.expression + docs.map((h) => `\n${h.content}${h.name}`).join(""));
    }
    case "FROM":
      throw new StrataError("STRATA_IMPORT_INTERNAL", "FROM inside a stage", { locations: [ctx.loc(ins.span)] });
  }
}

function command(c: CommandForm): readonly string[] | ShellCommand {
  return c.form === "exec" ? c.argv : sh(c.script);
}

/**
 * RUN, with BuildKit's heredoc rules: a RUN that is only `<<EOF` runs the body through the
 * shell, or as a program when it starts with `#!`; otherwise the heredocs are put back after
 * the command line and the whole text goes to the shell.
 */
function run(img: Image, ins: Extract<Instruction, { kind: "RUN" }>, ctx: ImportContext): Image {
  const mounts = ins.mounts.map((m) => toMount(ctx, m, ins.span));
  const opts = { mounts, ...(ins.network ? { network: ins.network } : {}), ...(ins.security ? { security: ins.security } : {}) };
  const c = ins.command;
  if (c.form === "exec" || !ins.heredocs.length) return img.run(c.form === "exec" ? c.argv : c.script, opts);
  const only = parseHeredoc(c.script.trim());
  if (only && ins.heredocs.length === 1) {
    const h = ins.heredocs[0]!;
    const body = heredocText(h);
    if (body.startsWith("#!")) return img.run(script(body, { name: h.name }), opts);
    return img.run(body, opts);
  }
  let full = c.script;
  for (const h of ins.heredocs) full += `\n${h.content}${h.name}`;
  return img.run(full, opts);
}

const URL_RE = /^https?:\/\//i;
/** BuildKit's git URL detection (gitutil.ParseGitRef): git@, git://, ssh://, and https URLs ending in .git (with #ref). */
const GIT_RE = /^(git@[^:]+:|git:\/\/|ssh:\/\/|https?:\/\/[^#]+\.git(?:#|$))/i;

function copy(img: Image, ins: Extract<Instruction, { kind: "COPY" | "ADD" }>, ctx: ImportContext): Image {
  const t = (raw: string, what: string) => tpl(ctx, raw, ins.span, what);
  const dest = t(ins.dest, `${ins.kind} destination`);
  const opts = {
    ...(ins.chown !== undefined ? { chown: t(ins.chown, "--chown") } : {}),
    ...(ins.chmod !== undefined ? { chmod: ins.chmod } : {}),
    ...(ins.link ? { link: true } : {}),
    ...(ins.exclude.length ? { exclude: ins.exclude.map((x) => t(x, "--exclude")) } : {}),
    ...(ins.kind === "COPY" && ins.parents ? { parents: true } : {}),
    ...(ins.kind === "ADD" && ins.keepGitDir ? { keepGitDir: true } : {}),
    ...(ins.kind === "ADD" && ins.unpack !== undefined ? { unpack: ins.unpack } : {}),
  };
  const heredocs = ins.sources.filter((s) => s.type === "heredoc");
  const paths = ins.sources.flatMap((s) => (s.type === "path" ? [s.path] : []));
  if (heredocs.length) {
    // Each heredoc is its own file; several sources are several copies into the same place.
    let out = img;
    for (const s of ins.sources) {
      if (s.type !== "heredoc") throw new StrataError("STRATA_IMPORT_UNSUPPORTED", `${ins.kind} mixing heredocs and paths`, { locations: [ctx.loc(ins.span)] });
      const h = s.heredoc;
      const body = heredocText(h);
      const expand = h.expand && /[$\\]/.test(body);
      const f = file(h.name, expand ? heredocTemplate(body) : body, expand ? { expand: true } : {});
      out = ins.kind === "COPY" ? out.copy(f, dest, opts) : out.add(f, dest, opts);
    }
    return out;
  }
  let source: CopyFrom | CopyFrom[];
  const fromName = ins.kind === "COPY" ? ins.from : undefined;
  if (fromName !== undefined) {
    const r = resolveFrom(ctx, fromName, ins.span);
    const list = paths.map((p) => t(p, `${ins.kind} source`)) as [string, ...string[]];
    source = "dir" in r ? r.dir.files(...list.map(contextRelative)) : ("stage" in r ? r.stage : r.image).path(...list);
  } else if (ins.kind === "ADD" && paths.some((p) => isRemote(t(p, "ADD source")))) {
    source = paths.map((p) => remote(ctx, ins, p));
    if (source.length > 1) throw new StrataError("STRATA_IMPORT_UNSUPPORTED", "ADD of several URLs in one instruction", { locations: [ctx.loc(ins.span)], hint: "one ADD per URL" });
  } else {
    source = buildContext(ctx).files(...(paths.map((p) => t(p, `${ins.kind} source`)) as [string, ...string[]]));
  }
  const src = Array.isArray(source) ? source[0]! : source;
  return ins.kind === "COPY" ? img.copy(src, dest, opts) : img.add(src, dest, opts);
}

function isRemote(template: string): boolean {
  return URL_RE.test(template) || GIT_RE.test(template);
}

function remote(ctx: ImportContext, ins: Extract<Instruction, { kind: "ADD" }>, raw: string): CopyFrom {
  const url = tpl(ctx, raw, ins.span, "ADD URL");
  if (hasRefs(url) && !URL_RE.test(url) && !GIT_RE.test(url)) throw new StrataError("STRATA_IMPORT_UNSUPPORTED", "ADD of a URL built from variables", { locations: [ctx.loc(ins.span)] });
  if (GIT_RE.test(url)) {
    const hash = url.indexOf("#");
    const base = hash >= 0 ? url.slice(0, hash) : url;
    const ref = hash >= 0 ? url.slice(hash + 1) : undefined;
    return git(base, { ...(ref ? { ref } : {}), ...(ins.keepGitDir ? { keepGitDir: true } : {}), ...(ins.checksum ? { checksum: ins.checksum } : {}) });
  }
  return http(url, ins.checksum ? { checksum: ins.checksum as `sha256:${string}` } : {});
}
