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
  | { readonly env: string; readonly value: string | null }
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
  if ("arg" in e) return e.default;
  if ("env" in e) return e.value ?? undefined;
  if ("workdir" in e) return e.workdir;
  return undefined;
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
  // Walk backwards: an entry is needed if its name is wanted by what comes after it.
  for (let i = scope.length - 1; i >= 0; i--) {
    const e = scope[i]!;
    if ("stage" in e) {
      // A boundary matters only if an arg declared before it is kept (it hides that arg from later readers).
      // (The reader sits after every entry, so a boundary always separates it from earlier args.)
      if (!keep.length || !("stage" in keep[keep.length - 1]!)) keep.push(e);
      continue;
    }
    const name = entryName(e);
    const needed = name === undefined ? opts.workdir === true : wanted.has(name);
    if (!needed) continue;
    keep.push(e);
    const t = entryTemplate(e);
    if (t !== undefined) for (const n of templateRefs(t)) wanted.add(n);
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

export function scopeArgs(scope: Scope): ArgDecl[] {
  const out: ArgDecl[] = [];
  for (const e of scope) if ("arg" in e) out.push(e.default === undefined ? { name: e.arg } : { name: e.arg, default: e.default });
  return out;
}
