import { StrataError } from "./diagnostic.ts";

/**
 * Reads a bound from an environment variable: a positive integer, optionally with a binary
 * suffix (`64k`, `512m`, `2g`; `0` is refused, since every bound must bound something). Unset
 * means `fallback`. A malformed value is a coded usage error naming the variable, never a
 * silently ignored setting. `env` is the environment to read (graph has no process of its own:
 * callers pass theirs).
 */
export function limitFromEnv(name: string, fallback: number, env: Readonly<Record<string, string | undefined>> | undefined): number {
  const raw = env?.[name];
  if (raw === undefined || raw === "") return fallback;
  const m = /^\s*(\d+)\s*([kmgt]i?b?)?\s*$/i.exec(raw);
  const unit = m?.[2]?.[0]?.toLowerCase();
  const scale = unit === "k" ? 1024 : unit === "m" ? 1024 ** 2 : unit === "g" ? 1024 ** 3 : unit === "t" ? 1024 ** 4 : 1;
  const value = m ? Number(m[1]) * scale : NaN;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new StrataError("STRATA_USAGE", `${name}=${JSON.stringify(raw)} is not a positive size`, { hint: `set ${name} to a positive integer, optionally with k, m or g (e.g. ${name}=${fallback})` });
  }
  return value;
}
