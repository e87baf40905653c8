import { resolve } from "node:path";
import type { CommandSpec } from "../argv.ts";
import { usageError } from "../argv.ts";

/** Where a `--secret` comes from: a file (resolved against the working directory) or an environment variable. */
export type SecretSource = { readonly file: string } | { readonly env: string };

/**
 * `--secret id=ID,src=FILE` / `id=ID,env=VAR`, as `docker build` takes them. Both engines
 * read the flags here so they accept exactly the same spellings.
 */
export function secretSources(list: readonly string[], cwd: string, spec: CommandSpec): Record<string, SecretSource> {
  const out: Record<string, SecretSource> = {};
  for (const s of list) {
    const kv = new Map(s.split(",").map((p) => p.split("=", 2) as [string, string]));
    const id = kv.get("id");
    const src = kv.get("src") ?? kv.get("source");
    const env = kv.get("env");
    if (!id || (!src && !env)) throw usageError(`--secret ${s}: expected id=ID,src=FILE or id=ID,env=VAR`, spec);
    out[id] = src ? { file: resolve(cwd, src) } : { env: env! };
  }
  return out;
}

/** `--context DIR` replaces the main context; `--context NAME=DIR` adds a named one. */
export function contextOptions(list: readonly string[], cwd: string): { main?: string; named: Record<string, string> } {
  const named: Record<string, string> = {};
  let main: string | undefined;
  for (const c of list) {
    const eq = c.indexOf("=");
    if (eq > 0) named[c.slice(0, eq)] = resolve(cwd, c.slice(eq + 1));
    else main = resolve(cwd, c);
  }
  return { ...(main ? { main } : {}), named };
}
