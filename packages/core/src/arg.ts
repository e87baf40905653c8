import { templateFromUser, type ScopeEntry } from "@strata/graph";

export type ArgValue = string | number | boolean;
type Widen<T> = T extends string ? string : T extends number ? number : T extends boolean ? boolean : never;

const ARG_BRAND = Symbol.for("strata.arg");

/**
 * A build argument. It stays symbolic: in a template string it reads as `${NAME}`, and its
 * value is chosen at build time (`--build-arg NAME=…`, else the default), exactly like a
 * Dockerfile ARG. `T` is the type of its default, so `--build-arg PORT=abc` can be refused
 * for a numeric arg.
 */
export interface Arg<T extends ArgValue = string> {
  readonly [ARG_BRAND]: true;
  readonly name: string;
  readonly default: T | undefined;
  readonly type: "string" | "number" | "boolean";
  /** `${NAME}`, so an Arg can be interpolated into any template string. */
  toString(): string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function makeArg<T extends ArgValue>(name: string, def: T | undefined, type: Arg["type"]): Arg<T> {
  if (!NAME.test(name)) throw new TypeError(`invalid build arg name ${JSON.stringify(name)}: use letters, digits and _`);
  return Object.freeze({
    [ARG_BRAND]: true as const,
    name,
    default: def,
    type,
    toString: () => `\${${name}}`,
  });
}

/**
 * Declares a global build arg (a Dockerfile `ARG` before the first `FROM`): `from()` and
 * other image sources may read it. Declaring the same name again replaces the earlier
 * declaration for the sources created after it, as a later global `ARG` does.
 */
export function arg(name: string): Arg<string>;
export function arg<T extends ArgValue>(name: string, defaultValue: T): Arg<Widen<T>>;
export function arg(name: string, defaultValue?: ArgValue): Arg<ArgValue> {
  const type = defaultValue === undefined ? "string" : (typeof defaultValue as Arg["type"]);
  const a = makeArg(name, defaultValue, type);
  GLOBAL_ARGS.set(name, a);
  return a;
}

/**
 * An Arg value that is *not* added to the global table: for importers and generated code that
 * pass global args to `from()` explicitly (`from(ref, { args })`). The default is a template.
 */
export function declareArg(name: string, defaultValue?: string): Arg<string> {
  return makeArg<string>(name, defaultValue, "string");
}

/**
 * Declares several typed global args at once: `const args = defineArgs({ NODE: "22", PORT: 3000 })`
 * gives `args.NODE: Arg<string>` and `args.PORT: Arg<number>`.
 */
export function defineArgs<const T extends Record<string, ArgValue | undefined>>(
  defaults: T,
): { readonly [K in keyof T & string]: Arg<T[K] extends undefined ? string : Widen<NonNullable<T[K]>>> } {
  const out: Record<string, Arg<ArgValue>> = {};
  for (const [name, value] of Object.entries(defaults)) out[name] = value === undefined ? arg(name) : arg(name, value);
  return Object.freeze(out) as never;
}

export function isArg(value: unknown): value is Arg<ArgValue> {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[ARG_BRAND] === true;
}

/** Predefined platform args (BuildKit sets them; a stage must declare one with `.arg()` to read it). */
export const TARGETPLATFORM: Arg<string> = makeArg<string>("TARGETPLATFORM", undefined, "string");
export const TARGETOS: Arg<string> = makeArg<string>("TARGETOS", undefined, "string");
export const TARGETARCH: Arg<string> = makeArg<string>("TARGETARCH", undefined, "string");
export const TARGETVARIANT: Arg<string> = makeArg<string>("TARGETVARIANT", undefined, "string");
export const BUILDPLATFORM: Arg<string> = makeArg<string>("BUILDPLATFORM", undefined, "string");
export const BUILDOS: Arg<string> = makeArg<string>("BUILDOS", undefined, "string");
export const BUILDARCH: Arg<string> = makeArg<string>("BUILDARCH", undefined, "string");
export const BUILDVARIANT: Arg<string> = makeArg<string>("BUILDVARIANT", undefined, "string");

/** A default in template form: string defaults may read earlier args (`${A}-x`), as in a Dockerfile. */
export function argDefaultTemplate(value: ArgValue | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === "string" ? templateFromUser(value) : String(value);
}

export function argEntry(a: Pick<Arg<ArgValue>, "name" | "default">): { readonly arg: string; readonly default?: string } {
  const d = argDefaultTemplate(a.default);
  return d === undefined ? { arg: a.name } : { arg: a.name, default: d };
}

/**
 * The global args declared so far, in declaration order. The table belongs to this copy of
 * @strata/core, not to the process: the CLI bundles every image module with its own copy, so
 * each module evaluation has its own table, and evaluating a module again (or another module in
 * the same process) neither loses nor leaks declarations.
 */
let GLOBAL_ARGS = new Map<string, Arg<ArgValue>>();

/**
 * Runs `fn` with an empty table of global args, as a module evaluated in a fresh process has it,
 * and restores the table afterwards: for harnesses that evaluate many modules against one copy of
 * core (a bundled module never needs it).
 */
export function withFreshGlobalArgs<T>(fn: () => T): T {
  const saved = GLOBAL_ARGS;
  GLOBAL_ARGS = new Map();
  try {
    return fn();
  } finally {
    GLOBAL_ARGS = saved;
  }
}

/** The global args `arg()` has declared in this copy of @strata/core (what `from()` may read). */
export function globalArgs(): ReadonlyMap<string, Arg<ArgValue>> {
  return GLOBAL_ARGS;
}
