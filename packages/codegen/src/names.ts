/**
 * Identifiers of the generated module: one namespace for the global args, the build context
 * and the stages, minus JavaScript's reserved words and the names imported from @strata/core.
 */
const RESERVED = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally for function if import in " +
    "instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface package " +
    "private protected public await arguments eval undefined NaN Infinity globalThis"
  ).split(" "),
);

/** Everything the generated code may import from @strata/core (values and types). */
const CORE_NAMES = [
  "arg", "declareArg", "from", "scratch", "stageFor", "context", "file", "script", "http", "git", "cache", "secret", "bind", "tmpfs", "ssh", "sh",
  "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT", "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT",
  "Port", "Signal", "Duration", "PlatformString",
] as const;

export type CoreName = (typeof CORE_NAMES)[number];

export const PLATFORM_ARGS: ReadonlySet<string> = new Set(["TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT", "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT"]);

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export class NameTable {
  readonly #taken = new Set<string>([...RESERVED, ...CORE_NAMES]);

  /** Takes `wanted` if free, else `wanted + suffix`, else the first free of `wanted + suffix` 2, 3, … */
  take(wanted: string, suffix = ""): string {
    const base = IDENT.test(wanted) ? wanted : "stage";
    let name = base;
    if (this.#taken.has(name) && suffix) name = base + suffix;
    for (let n = 2; this.#taken.has(name); n++) name = `${base}${suffix}${n}`;
    this.#taken.add(name);
    return name;
  }
}

export function isPlainIdentifier(s: string): boolean {
  return IDENT.test(s) && !RESERVED.has(s);
}

/** `build-env` → `buildEnv`, `go.builder` → `goBuilder`, `2nd` → `stage2nd`. */
export function camelCase(text: string): string {
  const words = text.split(/[^A-Za-z0-9_$]+/).filter(Boolean);
  if (!words.length) return "stage";
  const out = words.map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join("");
  return /^[0-9]/.test(out) ? `stage${out[0]!.toUpperCase()}${out.slice(1)}` : out;
}

/**
 * A name for an unnamed stage from its base image: `golang:1.23` → `golang`,
 * `mcr.microsoft.com/dotnet/sdk:8.0` → `sdk`, `${BASE}` → undefined.
 */
export function nameFromImage(ref: string): string | undefined {
  if (ref.includes("$")) return undefined;
  const noDigest = ref.split("@")[0]!;
  const last = noDigest.split("/").pop()!;
  const repo = last.split(":")[0]!;
  const name = camelCase(repo.toLowerCase());
  return name === "stage" ? undefined : name;
}
