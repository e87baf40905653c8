import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * Where a module's packages resolve when its own project lacks them: the `node_modules` that
 * holds the CLI's own `@strata/core`. A project's packages always win (esbuild tries
 * `nodePaths` last), so a project with `@strata/core` installed evaluates exactly that copy,
 * shared with its image packages; a global `strata` in a bare directory still works.
 */
export function fallbackNodePaths(): string[] {
  try {
    let dir = dirname(createRequire(import.meta.url).resolve("@strata/core"));
    while (!existsSync(join(dir, "package.json"))) {
      if (dirname(dir) === dir) return [];
      dir = dirname(dir);
    }
    // dir is …/node_modules/@strata/core (or packages/core in the workspace, linked from one).
    const scope = dirname(dir);
    return dirname(scope).endsWith("node_modules") ? [dirname(scope)] : [];
  } catch {
    return [];
  }
}
