import { homedir } from "node:os";
import { join } from "node:path";

/** The store and caches: `$STRATA_HOME`, else `$XDG_CACHE_HOME/strata`, else `~/.cache/strata`. */
export function strataHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.STRATA_HOME) return env.STRATA_HOME;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, "strata");
  return join(homedir(), ".cache", "strata");
}
