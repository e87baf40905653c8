import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, join, relative, resolve } from "node:path";
import { StrataError } from "@strata/graph";
import type { CommandSpec, ParsedArgs } from "../argv.ts";
import type { CliContext } from "../context.ts";
import { detectProject, readPackageJson, type PackageJson, type ProjectKind } from "../init/detect.ts";
import { baseImageOf, dockerignore, imageModule, README_MARKER, readmeBlock, tsconfig } from "../init/templates.ts";
import { VERSION } from "../version.ts";

export const spec: CommandSpec = {
  name: "init",
  summary: "Scaffold an image module for a project: app.image.ts, tsconfig.json, package.json scripts.",
  usage: "strata init [DIR] [--force]",
  description:
    "Writes app.image.ts for what DIR (default: the current directory) holds: a Node project (npm,\n" +
    "pnpm or yarn lockfile) gets nodeDeps + nodeRuntime from @strata/images, a go.mod a static Go\n" +
    "build on scratch, requirements.txt or pyproject.toml a Python app, anything else a minimal image.\n" +
    "Also writes tsconfig.json and .dockerignore (unless the project has them), adds @strata/cli,\n" +
    "@strata/core (and @strata/images) and the scripts image:build / image:check to package.json\n" +
    "(creating it if needed), and a short block to README.md. An existing app.image.ts is never\n" +
    "overwritten without --force. Then: `npm install`, `npm run image:check`, `npm run image:build`.",
  positionals: { min: 0, max: 1 },
  options: [{ name: "force", type: "boolean", description: "overwrite app.image.ts, tsconfig.json and .dockerignore if they exist" }],
  examples: ["strata init", "strata init services/api", "strata init --force"],
};

interface Planned {
  readonly path: string;
  readonly text: string;
  readonly action: "create" | "overwrite" | "update";
}

export async function run(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const dir = resolve(ctx.cwd, args.positionals[0] ?? ".");
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new StrataError("STRATA_USAGE", `${args.positionals[0]} is not a directory`, { hint: "give the project's directory: strata init [DIR]" });
  }
  const force = args.options.force === true;
  const pkg = existsSync(dir) ? readPackageJson(dir) : undefined;
  const kind = existsSync(dir) ? detectProject(dir, pkg) : ({ kind: "minimal" } as const);
  const plan: Planned[] = [];
  const kept: string[] = [];
  const add = (name: string, text: string, opts: { keepExisting: boolean }) => {
    const path = join(dir, name);
    if (!existsSync(path)) plan.push({ path, text, action: "create" });
    else if (force) plan.push({ path, text, action: "overwrite" });
    else if (opts.keepExisting) kept.push(name);
    else {
      throw new StrataError("STRATA_INIT_EXISTS", `${relative(ctx.cwd, path) || path} exists; strata init does not overwrite it`, {
        hint: "run `strata init --force` to replace it, or edit it by hand",
      });
    }
  };
  add("app.image.ts", imageModule(kind), { keepExisting: false });
  add("tsconfig.json", tsconfig(), { keepExisting: true });
  add(".dockerignore", dockerignore(kind), { keepExisting: true });
  plan.push({ path: join(dir, "package.json"), text: `${JSON.stringify(withStrata(pkg, dir, kind), null, 2)}\n`, action: pkg ? "update" : "create" });
  const readme = join(dir, "README.md");
  const readmeText = existsSync(readme) ? readFileSync(readme, "utf8") : undefined;
  if (readmeText === undefined) plan.push({ path: readme, text: `# ${basename(dir)}\n\n${readmeBlock(kind)}`, action: "create" });
  else if (!readmeText.includes(README_MARKER)) plan.push({ path: readme, text: `${readmeText.replace(/\n*$/, "\n\n")}${readmeBlock(kind)}`, action: "update" });

  mkdirSync(dir, { recursive: true });
  for (const p of plan) writeAtomic(p.path, p.text);
  const rel = (p: string) => relative(ctx.cwd, p) || ".";
  ctx.stderr(`strata init: ${describe(kind)} in ${rel(dir)}\n`);
  for (const p of plan) ctx.stderr(`  ${p.action === "create" ? "created" : p.action === "overwrite" ? "overwrote" : "updated"} ${rel(p.path)}\n`);
  for (const k of kept) ctx.stderr(`  kept ${rel(join(dir, k))} (exists; --force replaces it)\n`);
  const cd = rel(dir) === "." ? "" : `cd ${rel(dir)} && `;
  ctx.stderr(
    `\nNext:\n  ${cd}npm install\n  npm run image:check\n  npm run image:build -- -t ${imageName(dir)}:dev --load\n` +
      `Offline, build from a local base: npx strata build app.image.ts --image ${baseImageOf(kind)}=oci-layout:./base\n`,
  );
  return 0;
}

function describe(kind: ProjectKind): string {
  switch (kind.kind) {
    case "node":
      return `a Node.js project (${kind.manager})`;
    case "go":
      return `a Go module (builds ${kind.pkg})`;
    case "python":
      return `a Python app (${kind.via === "requirements" ? "requirements.txt" : "pyproject.toml"})`;
    case "minimal":
      return "a minimal image";
  }
}

function imageName(dir: string): string {
  return basename(dir).toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^[^a-z0-9]+/, "") || "app";
}

/** The project's package.json with strata's devDependencies and scripts added (existing entries kept). */
function withStrata(pkg: PackageJson | undefined, dir: string, kind: ProjectKind): PackageJson {
  const out: PackageJson = pkg ? { ...pkg } : { name: imageName(dir), version: "0.0.0", private: true, type: "module" };
  const range = `^${VERSION}`;
  const dev = { ...out.devDependencies };
  const deps = out.dependencies ?? {};
  const want = ["@strata/cli", "@strata/core", ...(kind.kind === "node" || kind.kind === "go" ? ["@strata/images"] : [])];
  for (const name of want) if (!dev[name] && !deps[name]) dev[name] = range;
  out.devDependencies = Object.fromEntries(Object.entries(dev).sort(([a], [b]) => a.localeCompare(b)));
  const scripts = { ...out.scripts };
  scripts["image:check"] ??= "strata check app.image.ts";
  scripts["image:build"] ??= "strata build app.image.ts";
  out.scripts = scripts;
  return out;
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
