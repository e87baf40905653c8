import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export const REPO = join(import.meta.dirname, "..", "..");
export const STRATA_BIN = join(REPO, "packages/cli/bin/strata.js");

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real `strata` executable with its own STRATA_HOME (unless given). */
export function strata(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): CliResult {
  const r: SpawnSyncReturns<string> = spawnSync(process.execPath, [STRATA_BIN, ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, NO_COLOR: "1", STRATA_HOME: process.env.STRATA_TEST_HOME ?? join(tmpdir(), "strata-test-home"), ...opts.env },
    encoding: "utf8",
    input: opts.input ?? "",
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Like strata(), without blocking the event loop (for tests that serve something in-process). */
export function strataAsync(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [STRATA_BIN, ...args], {
      cwd: opts.cwd ?? REPO,
      env: { ...process.env, NO_COLOR: "1", STRATA_HOME: process.env.STRATA_TEST_HOME ?? join(tmpdir(), "strata-test-home"), ...opts.env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * A directory outside the repository where image modules can `import "@strata/core"` (and
 * the other workspace packages) as an installed dependency, like a user's project would.
 */
export function scratchProject(files: Readonly<Record<string, string>> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "strata-proj-"));
  const scope = join(dir, "node_modules", "@strata");
  mkdirSync(scope, { recursive: true });
  for (const pkg of ["core", "graph", "dockerfile", "codegen", "oci", "engine", "registry"]) symlinkSync(join(REPO, "packages", pkg), join(scope, pkg));
  symlinkSync(join(REPO, "images"), join(scope, "images"));
  symlinkSync(join(REPO, "node_modules", "@types"), join(dir, "node_modules", "@types"));
  writeFiles(dir, files);
  return dir;
}

export function writeFiles(dir: string, files: Readonly<Record<string, string>>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
}

export function copyInto(src: string, dir: string): void {
  cpSync(src, dir, { recursive: true });
}
