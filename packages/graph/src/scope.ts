import { templateRefs } from "./template.ts";

/** A build argument declaration: `ARG NAME[=default]`. The default is a template. */
export interface ArgDecl {
  readonly name: string;
  readonly default?: string;
}

/**
 * One entry of the scope an op's strings are expanded in, in definition order: a build arg
 * declaration, an environment change relative to the base image's `Env` (`value: null`
 * unsets), or a WORKDIR change (relative paths join the previous directory; the first joins
 * the base image's WorkingDir).
 */
export type ScopeEntry =
  | { readonly arg: string; readonly default?: string }
  /**
   * A stage re-declaring a global arg without a default (`ARG X` after FROM, with `ARG X=…`
   * before the first FROM): its value is the build arg, else the global arg's value.
   */
  | { readonly arg: string; readonly global: true }
  /** A global arg declaration (before the first FROM); only `global` re-declarations read it. */
  | { readonly globalArg: string; readonly default?: string }
  | { readonly env: string; readonly value: string | null }
  /**
   * Several variables set by one step (`ENV A=1 B=$A`): every value is expanded against the
   * environment *before* the step, as Docker does, so B gets the previous A.
   */
  | { readonly envs: readonly (readonly [name: string, value: string | null])[] }
  | { readonly workdir: string }
  /** A new stage starts (`from(otherImage)`): args declared before it go out of scope; env and workdir values stay. */
  | { readonly stage: true };

/**
 * The ordered scope. Order matters because each entry sees the ones before it
 * (`ARG A=1`, `ENV B=$A`, `ARG C=$B`). An op stores only the part it reads, so an unrelated
 * ENV or ARG does not change its digest; an ExecOp stores all of it (it becomes the
 * process environment).
 */
export type Scope = readonly ScopeEntry[];

export const EMPTY_SCOPE: Scope = Object.freeze([]);

export function entryName(e: ScopeEntry): string | undefined {
  return "arg" in e ? e.arg : "env" in e ? e.env : undefined;
}

function entryTemplate(e: ScopeEntry): string | undefined {
  if ("globalArg" in e) return e.default;
  if ("arg" in e) return "default" in e ? e.default : undefined;
  if ("env" in e) return e.value ?? undefined;
  if ("workdir" in e) return e.workdir;
  return undefined;
}

function want(wanted: Set<string>, template: string | null | undefined): void {
  if (template) for (const n of templateRefs(template)) wanted.add(n);
}

/**
 * The part of `scope` that `templates` read, following references transitively through
 * arg defaults, env values and (with `workdir: true`) the WORKDIR chain. An entry is kept
 * when its name is read by a template or by a kept entry after it.
 */
export function narrowScope(scope: Scope, templates: readonly string[], opts: { workdir?: boolean } = {}): Scope {
  const wanted = new Set<string>();
  for (const t of templates) for (const n of templateRefs(t)) wanted.add(n);
  const keep: ScopeEntry[] = [];
  // Global args live in their own namespace: only `global` re-declarations read them.
  const wantedGlobals = new Set<string>();
  // Walk backwards: an entry is needed if its name is wanted by what comes after it.
  for (let i = scope.length - 1; i >= 0; i--) {
    const e = scope[i]!;
    if ("globalArg" in e) {
      if (!wantedGlobals.has(e.globalArg)) continue;
      keep.push(e);
      want(wantedGlobals, e.default);
      continue;
    }
    if ("stage" in e) {
      // A boundary matters only if an arg declared before it is kept (it hides that arg from later readers).
      // (The reader sits after every entry, so a boundary always separates it from earlier args.)
      if (!keep.length || !("stage" in keep[keep.length - 1]!)) keep.push(e);
      continue;
    }
    if ("envs" in e) {
      // Keep only the wanted variables of the group; their values read the state before it.
      const pairs = e.envs.filter(([n]) => wanted.has(n));
      if (!pairs.length) continue;
      keep.push(pairs.length === e.envs.length ? e : { envs: pairs });
      for (const [, v] of pairs) want(wanted, v);
      continue;
    }
    const name = entryName(e);
    const needed = name === undefined ? opts.workdir === true : wanted.has(name);
    if (!needed) continue;
    keep.push(e);
    if ("global" in e) wantedGlobals.add(e.arg);
    else want(wanted, entryTemplate(e));
  }
  keep.reverse();
  // Drop boundaries with no kept arg before them.
  const out: ScopeEntry[] = [];
  let argsBefore = false;
  for (const e of keep) {
    if ("stage" in e) {
      if (argsBefore) out.push(e);
      argsBefore = false;
    } else {
      if ("arg" in e) argsBefore = true;
      out.push(e);
    }
  }
  return Object.freeze(out);
}

/** The global arg declarations of a scope, in order (what a Dockerfile writes before its first FROM). */
export function globalArgEntries(scope: Scope): Array<{ readonly globalArg: string; readonly default?: string }> {
  return scope.filter((e): e is { readonly globalArg: string; readonly default?: string } => "globalArg" in e);
}
