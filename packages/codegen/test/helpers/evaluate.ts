import { transformSync } from "esbuild";
import * as core from "@strata/core";
import { isImage, type Image } from "@strata/core";

/**
 * Evaluates a generated module in this process against this process's @strata/core: esbuild
 * strips the types (to CommonJS), and `require("@strata/core")` returns the loaded package.
 * Much faster than bundling each module; the builders are the same code either way.
 * The process-wide table of global args is emptied first, as a fresh `strata` process has it.
 */
export function evaluateModule(source: string): Map<string, Image> {
  const table = (globalThis as unknown as Record<symbol, Map<string, unknown> | undefined>)[Symbol.for("strata.globalArgs")];
  table?.clear();
  const { code } = transformSync(source, { loader: "ts", format: "cjs", target: "node20" });
  const module = { exports: {} as Record<string, unknown> };
  const require = (id: string) => {
    if (id === "@strata/core") return core;
    throw new Error(`generated module imports ${id}`);
  };
  new Function("require", "module", "exports", code)(require, module, module.exports);
  const out = new Map<string, Image>();
  for (const [name, value] of Object.entries(module.exports)) if (isImage(value)) out.set(name, value);
  return out;
}
