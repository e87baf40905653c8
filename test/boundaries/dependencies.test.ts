import ts from "typescript";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { REPO } from "../helpers/cli.ts";

/**
 * The dependency table of docs/architecture.md, enforced: a package may import only what its row
 * allows (workspace packages by name, npm packages, and for all but `graph`, Node built-ins).
 */
const ALLOWED: Record<string, { workspace: string[]; npm: string[]; node: boolean }> = {
  graph: { workspace: [], npm: ["@noble/hashes"], node: false },
  core: { workspace: ["graph"], npm: [], node: false },
  dockerfile: { workspace: ["graph", "core"], npm: [], node: false },
  codegen: { workspace: ["graph", "core", "dockerfile"], npm: ["ts-morph"], node: true },
  oci: { workspace: ["graph"], npm: ["tar-stream"], node: true },
  registry: { workspace: ["graph", "oci"], npm: [], node: true },
  engine: { workspace: ["graph", "oci", "registry"], npm: [], node: true },
  cli: { workspace: ["graph", "core", "dockerfile", "codegen", "oci", "registry", "engine"], npm: ["esbuild", "ts-morph"], node: true },
};


function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.ts$/.test(e.name) && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** What a file really imports (static, dynamic and re-exports), as the TypeScript parser reads it: not text in strings or comments. */
function importsOf(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, "utf8"), true, true).importedFiles.map((f) => f.fileName);
}

describe("package boundaries", () => {
  for (const [pkg, rule] of Object.entries(ALLOWED)) {
    test(`${pkg} imports only what docs/architecture.md allows`, () => {
      const bad: string[] = [];
      for (const file of sources(join(REPO, "packages", pkg, "src"))) {
        for (const spec of importsOf(file)) {
          if (spec.startsWith(".")) continue;
          const ok = spec.startsWith("node:")
            ? rule.node
            : spec.startsWith("@strata/")
              ? rule.workspace.includes(spec.slice("@strata/".length).split("/")[0]!)
              : rule.npm.some((n) => spec === n || spec.startsWith(`${n}/`));
          if (!ok) bad.push(`${file.slice(REPO.length + 1)}: ${spec}`);
        }
      }
      expect(bad).toEqual([]);
    });
  }

  test("each package's package.json declares the workspace packages it imports", () => {
    for (const pkg of Object.keys(ALLOWED)) {
      const manifest = JSON.parse(readFileSync(join(REPO, "packages", pkg, "package.json"), "utf8")) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
      // The CLI ships a bundle: the workspace packages it bundles are devDependencies.
      const declared = new Set(Object.keys({ ...manifest.dependencies, ...(pkg === "cli" ? manifest.devDependencies : {}) }));
      const used = new Set(
        sources(join(REPO, "packages", pkg, "src"))
          .flatMap(importsOf)
          .filter((s) => !s.startsWith(".") && !s.startsWith("node:"))
          .map((s) => (s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : s.split("/")[0]!)),
      );
      for (const u of used) expect(declared.has(u), `${pkg} imports ${u} without declaring it`).toBe(true);
    }
  });

  test("docs/architecture.md's package table names the same workspace dependencies", () => {
    const doc = readFileSync(join(REPO, "docs", "architecture.md"), "utf8");
    for (const [pkg, rule] of Object.entries(ALLOWED)) {
      const row = doc.split("\n").find((l) => l.startsWith(`| \`${pkg}\` |`));
      expect(row, `docs/architecture.md has no row for ${pkg}`).toBeDefined();
      const mayImport = row!.split("|").at(-2)!.trim();
      const named = mayImport === "everything" ? Object.keys(ALLOWED).filter((p) => p !== pkg) : mayImport.split(/,\s*/).filter((w) => w in ALLOWED);
      expect(named.sort(), `${pkg}'s row: ${mayImport}`).toEqual(pkg === "cli" ? named.sort() : [...rule.workspace].sort());
      if (pkg === "cli") expect([...rule.workspace].sort()).toEqual(Object.keys(ALLOWED).filter((p) => p !== "cli").sort());
    }
  });

  test("graph uses no Node globals (it runs in a browser too)", () => {
    for (const file of sources(join(REPO, "packages/graph/src"))) {
      const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
      expect(text, file).not.toMatch(/\b(process|Buffer|require|__dirname)\b/);
    }
  });
});
