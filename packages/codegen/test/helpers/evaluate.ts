import { transformSync } from "esbuild";
import * as core from "@strata/core";
import { isImage, type Image } from "@strata/core";
import { withFreshGlobalArgs } from "@strata/core/internal";

/**
 * Evaluates a generated module in this process against this process's @strata/core: esbuild
 * strips the types (to CommonJS), and `require("@strata/core")` returns the loaded package.
 * Much faster than bundling each module; the builders are the same code either way.
 * Global args start empty, as a fresh `strata` process has them.
 */
export function evaluateModule(source: string): Map<string, Image> {
  const { code } = transformSync(source, { loader: "ts", format: "cjs", target: "node20" });
  const module = { exports: {} as Record<string, unknown> };
  const require = (id: string) => {
    if (id === "@strata/core") return core;
    throw new Error(`generated module imports ${id}`);
  };
  withFreshGlobalArgs(() => new Function("require", "module", "exports", code)(require, module, module.exports));
  const out = new Map<string, Image>();
  for (const [name, value] of Object.entries(module.exports)) if (isImage(value)) out.set(name, value);
  return out;
}
