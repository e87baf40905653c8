import { DEFAULT_LINUX_PATH } from "./image-config.ts";
import type { Scope, ScopeEntry } from "./scope.ts";
import { expandTemplate } from "./template.ts";
import { DEFAULT_MAX_WORD_BYTES, wordTooLong } from "./word-limit.ts";

/** What a build knows that the graph leaves symbolic. */
export interface EvalContext {
  /** `--build-arg NAME=value` values. */
  readonly buildArgs?: Readonly<Record<string, string>>;
  /** Values of predefined args (TARGETPLATFORM, BUILDARCH, …), used when an ARG declares one without a default. */
  readonly predefined?: Readonly<Record<string, string>>;
  /** The bound on one expanded word, in bytes of UTF-8 (default DEFAULT_MAX_WORD_BYTES, 1 MiB). */
  readonly maxWordBytes?: number;
}

/** Joins a WORKDIR onto the current directory the way Docker does (absolute replaces, relative appends). */
export function joinWorkdir(current: string, next: string): string {
  const joined = next.startsWith("/") ? next : `${current.replace(/\/+$/, "")}/${next}`;
  return normalizePosix(joined);
}

export function normalizePosix(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return `/${out.join("/")}`;
}

/**
 * Evaluates a scope in order, starting from a base image's Env and WorkingDir: the state an
 * op's templates are expanded in. ENV wins over ARG of the same name, as in Docker.
 */
export class ScopeState {
  readonly env = new Map<string, string>();
  readonly args = new Map<string, string | undefined>();
  /** Global args (declared before the first FROM): read only by `global` re-declarations. */
  readonly globals = new Map<string, string | undefined>();
  cwd: string;
  private readonly ctx: EvalContext;
  /** Predefined args visible without a declaration (true for FROM lines, as in BuildKit). */
  private readonly implicitPredefined: boolean;

  constructor(ctx: EvalContext, base: { env?: readonly string[] | undefined; workdir?: string | undefined } = {}, opts: { implicitPredefined?: boolean } = {}) {
    this.ctx = ctx;
    this.implicitPredefined = opts.implicitPredefined ?? false;
    for (const kv of base.env ?? []) {
      const eq = kv.indexOf("=");
      if (eq > 0) this.env.set(kv.slice(0, eq), kv.slice(eq + 1));
      else this.env.set(kv, "");
    }
    this.cwd = base.workdir ? normalizePosix(base.workdir) : "/";
  }

  readonly lookup = (name: string): string | undefined => {
    const e = this.env.get(name);
    if (e !== undefined) return e;
    if (this.args.has(name)) return this.args.get(name);
    if (this.implicitPredefined) return this.ctx.predefined?.[name];
    return undefined;
  };

  expand(template: string): string {
    return expandTemplate(template, this.lookup, this.maxWordBytes);
  }

  private get maxWordBytes(): number {
    return this.ctx.maxWordBytes ?? DEFAULT_MAX_WORD_BYTES;
  }

  /** Expands the value of the variable `name`; a word over the bound names that variable. */
  private expandValue(kind: "ARG" | "ENV", name: string, template: string, lookup: (n: string) => string | undefined = this.lookup): string {
    try {
      return expandTemplate(template, lookup, this.maxWordBytes);
    } catch (e) {
      if ((e as { code?: string }).code === "STRATA_WORD_TOO_LONG") throw wordTooLong(this.maxWordBytes, `${kind} ${name}`);
      throw e;
    }
  }

  private given(name: string): string | undefined {
    const given = this.ctx.buildArgs;
    return given && Object.hasOwn(given, name) ? given[name] : undefined;
  }

  private hasGiven(name: string): boolean {
    const given = this.ctx.buildArgs;
    return given !== undefined && Object.hasOwn(given, name);
  }

  apply(entry: ScopeEntry): void {
    if ("globalArg" in entry) {
      const name = entry.globalArg;
      let value: string | undefined;
      if (this.hasGiven(name)) value = this.given(name);
      else if (entry.default !== undefined) {
        // Global defaults see earlier globals and the predefined platform args, as a FROM line does.
        value = this.expandValue("ARG", name, entry.default, (n) => (this.globals.has(n) ? this.globals.get(n) : this.ctx.predefined?.[n]));
      } else value = this.ctx.predefined?.[name];
      this.globals.set(name, value);
    } else if ("arg" in entry) {
      let value: string | undefined;
      if (this.hasGiven(entry.arg)) value = this.given(entry.arg);
      else if ("global" in entry) value = this.globals.has(entry.arg) ? this.globals.get(entry.arg) : this.ctx.predefined?.[entry.arg];
      else if (entry.default !== undefined) value = this.expandValue("ARG", entry.arg, entry.default);
      else value = this.ctx.predefined?.[entry.arg];
      this.args.set(entry.arg, value);
    } else if ("env" in entry) {
      if (entry.value === null) this.env.delete(entry.env);
      else this.env.set(entry.env, this.expandValue("ENV", entry.env, entry.value));
    } else if ("envs" in entry) {
      const values = entry.envs.map(([name, v]) => [name, v === null ? null : this.expandValue("ENV", name, v)] as const);
      for (const [name, v] of values) {
        if (v === null) this.env.delete(name);
        else this.env.set(name, v);
      }
    } else if ("workdir" in entry) {
      this.cwd = joinWorkdir(this.cwd, this.expand(entry.workdir));
    } else {
      this.args.clear();
    }
  }

  applyAll(scope: Scope): this {
    for (const e of scope) this.apply(e);
    return this;
  }

  /** The environment of a RUN process: image env, then args that have a value (ENV wins), PATH defaulted. */
  processEnv(): string[] {
    const out = new Map(this.env);
    for (const [k, v] of this.args) if (v !== undefined && !out.has(k)) out.set(k, v);
    if (!out.has("PATH")) out.set("PATH", DEFAULT_LINUX_PATH);
    return [...out].map(([k, v]) => `${k}=${v}`);
  }
}
