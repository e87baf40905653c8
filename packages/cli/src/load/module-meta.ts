import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import type { Loader, Plugin } from "esbuild";

/**
 * A bundled module is evaluated from Strata's cache directory, so `import.meta.url` would name
 * the bundle, not the author's file. esbuild's `define` turns each of these expressions into a
 * variable, and the plugin declares that variable in every file that mentions one, with that
 * file's own path. (A file that declares its own `__dirname` keeps it: define replaces only
 * free identifiers.)
 */
export const MODULE_META_DEFINE: Record<string, string> = {
  "import.meta.url": "__strata_meta_url",
  "import.meta.dirname": "__strata_meta_dirname",
  "import.meta.filename": "__strata_meta_filename",
  __dirname: "__strata_meta_dirname",
  __filename: "__strata_meta_filename",
};

const LOADERS: Record<string, Loader> = { ts: "ts", mts: "ts", cts: "ts", tsx: "tsx", js: "js", mjs: "js", cjs: "js", jsx: "jsx" };
const MENTIONS = /import\.meta|__dirname|__filename/;

/** The esbuild plugin that gives each file its own `import.meta.url`, `__dirname` and `__filename`. */
export function moduleMetaPlugin(): Plugin {
  return {
    name: "strata-module-meta",
    setup(build) {
      build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (args) => {
        if (args.namespace !== "file") return undefined;
        const text = await readFile(args.path, "utf8");
        if (!MENTIONS.test(text)) return undefined;
        const ext = args.path.slice(args.path.lastIndexOf(".") + 1);
        const decl =
          `var __strata_meta_url = ${JSON.stringify(pathToFileURL(args.path).href)}, ` +
          `__strata_meta_dirname = ${JSON.stringify(dirname(args.path))}, __strata_meta_filename = ${JSON.stringify(args.path)};`;
        // On the first line (after a hashbang), without a newline: every line keeps its number.
        const hashbang = text.startsWith("#!") ? text.indexOf("\n") + 1 : 0;
        const contents = hashbang > 0 ? text.slice(0, hashbang) + decl + text.slice(hashbang) : decl + text;
        return { contents, loader: LOADERS[ext] ?? "js", resolveDir: dirname(args.path) };
      });
    },
  };
}
