import { templateFromUser } from "@strata/graph";

/** What a build arg's default (and so its type) can be: a string, a number or a boolean. */
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
  /** The arg's name: what `--build-arg NAME=…` sets (Dockerfile `ARG NAME`). */
  readonly name: string;
  /** The value when the build passes none (Dockerfile `ARG NAME=default`); undefined: empty. */
  readonly default: T | undefined;
  /** The type of the default, which a `--build-arg` value must parse as. */
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
/**
 * Declares a global build arg with a default (Dockerfile `ARG NAME=default` before the first
 * `FROM`); the default's type is the arg's, so a numeric default makes a numeric arg.
 *
 * @example
 * const V = arg("NODE_VERSION", "22");
 * export default from(`node:${V}-alpine`);
 */
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

/** Whether a value is a build arg made by `arg()`, `declareArg()` or `defineArgs()` (or a predefined one such as TARGETARCH). */
export function isArg(value: unknown): value is Arg<ArgValue> {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[ARG_BRAND] === true;
}

/**
 * Predefined platform args (BuildKit sets them; a stage must declare one with `.arg()` to read it).
 * TARGETPLATFORM is the platform being built (`linux/arm64/v8`).
 *
 * @example
 * base.arg(TARGETARCH).run(`curl -fsSLo /usr/local/bin/tool https://example.com/tool-${TARGETARCH}`)
 */
export const TARGETPLATFORM: Arg<string> = makeArg<string>("TARGETPLATFORM", undefined, "string");
/** The OS part of the platform being built (`linux`), as BuildKit's predefined `ARG TARGETOS`. */
export const TARGETOS: Arg<string> = makeArg<string>("TARGETOS", undefined, "string");
/** The architecture being built (`amd64`, `arm64`), as BuildKit's predefined `ARG TARGETARCH`. */
export const TARGETARCH: Arg<string> = makeArg<string>("TARGETARCH", undefined, "string");
/** The variant of the architecture being built (`v8`, `v7`; empty when none), as `ARG TARGETVARIANT`. */
export const TARGETVARIANT: Arg<string> = makeArg<string>("TARGETVARIANT", undefined, "string");
/** The platform of the machine running the build (`linux/amd64`), as BuildKit's predefined `ARG BUILDPLATFORM`: for `from(ref, { platform: BUILDPLATFORM })` cross-compiling stages. */
export const BUILDPLATFORM: Arg<string> = makeArg<string>("BUILDPLATFORM", undefined, "string");
/** The OS of the machine running the build (`linux`), as `ARG BUILDOS`. */
export const BUILDOS: Arg<string> = makeArg<string>("BUILDOS", undefined, "string");
/** The architecture of the machine running the build (`amd64`), as `ARG BUILDARCH`. */
export const BUILDARCH: Arg<string> = makeArg<string>("BUILDARCH", undefined, "string");
/** The architecture variant of the machine running the build (often empty), as `ARG BUILDVARIANT`. */
export const BUILDVARIANT: Arg<string> = makeArg<string>("BUILDVARIANT", undefined, "string");

/** A default in template form: string defaults may read earlier args (`${A}-x`), as in a Dockerfile. */
function argDefaultTemplate(value: ArgValue | undefined): string | undefined {
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
