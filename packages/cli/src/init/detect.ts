import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { StrataError } from "@strata/graph";

/** What `strata init` found in the directory, which decides the image module it writes. */
export type ProjectKind =
  | { readonly kind: "node"; readonly manager: "npm" | "pnpm" | "yarn"; readonly start: readonly string[] }
  | { readonly kind: "go"; readonly pkg: "." | `./${string}` }
  | { readonly kind: "python"; readonly via: "requirements" | "pyproject"; readonly main: string }
  | { readonly kind: "minimal" };

/**
 * Looks at what is already there: a lockfile (npm, pnpm, yarn) or a package.json with
 * dependencies is a Node project; `go.mod` a Go module; `requirements.txt` or `pyproject.toml`
 * a Python app; anything else (an empty directory) gets a minimal image.
 */
export function detectProject(dir: string, pkg: PackageJson | undefined): ProjectKind {
  const has = (f: string) => existsSync(join(dir, f));
  const manager = has("pnpm-lock.yaml") ? "pnpm" : has("yarn.lock") ? "yarn" : has("package-lock.json") ? "npm" : undefined;
  if (manager || (pkg && (pkg.dependencies || pkg.scripts?.start || pkg.main))) {
    const start = pkg?.scripts?.start ? ["npm", "start"] : ["node", pkg?.main ?? (has("server.js") ? "server.js" : "index.js")];
    return { kind: "node", manager: manager ?? "npm", start };
  }
  if (has("go.mod")) return { kind: "go", pkg: has("main.go") ? "." : firstCmd(dir) };
  if (has("requirements.txt") || has("pyproject.toml")) {
    const main = ["main.py", "app.py", "server.py"].find(has) ?? "main.py";
    return { kind: "python", via: has("requirements.txt") ? "requirements" : "pyproject", main };
  }
  return { kind: "minimal" };
}

function firstCmd(dir: string): "." | `./${string}` {
  try {
    const cmds = readdirSync(join(dir, "cmd"), { withFileTypes: true }).filter((e) => e.isDirectory());
    if (cmds[0]) return `./cmd/${cmds[0].name}`;
  } catch {
    // no cmd/ directory
  }
  return ".";
}

/** The fields of package.json that init reads or writes. */
export interface PackageJson {
  name?: string;
  main?: string;
  type?: string;
  private?: boolean;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** The project's package.json, if there is one; invalid JSON is a coded error, not a crash. */
export function readPackageJson(dir: string): PackageJson | undefined {
  const p = join(dir, "package.json");
  if (!existsSync(p)) return undefined;
  try {
    const v = JSON.parse(readFileSync(p, "utf8")) as unknown;
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
    return v as PackageJson;
  } catch (e) {
    throw new StrataError("STRATA_INIT_PACKAGE_JSON", `cannot read ${p}: ${(e as Error).message}`, { hint: "fix package.json (strata init adds its scripts and devDependencies to it)" });
  }
}
