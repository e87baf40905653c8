import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { busyboxLayout } from "../helpers/busybox.ts";
import { scratchProject, STRATA_BIN, strataAsync, type CliResult } from "../helpers/cli.ts";

/** A project with the busybox OCI layout beside its image module(s). */
export async function project(files: Record<string, string>): Promise<string> {
  const dir = scratchProject(files);
  await busyboxLayout(dir);
  return dir;
}

export const newHome = (): string => mkdtempSync(join(tmpdir(), "strata-home-"));

/** An image made locally from the busybox layout: prints `message` when run. */
export function appModule(base: string, message: string): Record<string, string> {
  return {
    "app.image.ts": `import { from${base.startsWith("ociLayout") ? ", ociLayout" : ""} } from "@strata/core";\n\nexport default from(${base}).copy("msg.txt", "/msg.txt").cmd(["cat", "/msg.txt"]);\n`,
    "msg.txt": `${message}\n`,
  };
}

/** `strata …` in `dir` with its own STRATA_HOME (never blocks the event loop: servers run in-process). */
export function run(dir: string, home: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return strataAsync(args, { cwd: dir, env: { STRATA_HOME: home, ...env } });
}

/** Like run(), with `input` on standard input (for --password-stdin). */
export function runWithInput(dir: string, home: string, args: readonly string[], input: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [STRATA_BIN, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: "1", STRATA_HOME: home, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** Every blob in a store hashes to its name: nothing unverified was ever made visible. */
export function unverifiedBlobs(home: string): string[] {
  const dir = join(home, "v1", "blobs", "sha256");
  if (!existsSync(dir)) return [];
  const bad: string[] = [];
  for (const hex of readdirSync(dir)) {
    if (hex.includes(".")) continue; // temp files are never read as blobs
    const h = createHash("sha256").update(readFileSync(join(dir, hex))).digest("hex");
    if (h !== hex) bad.push(hex);
  }
  return bad;
}

/** A DOCKER_CONFIG directory whose config.json holds Basic credentials for `registry`. */
export function dockerConfigWith(registry: string, user: string, password: string): string {
  const dir = mkdtempSync(join(tmpdir(), "strata-docker-config-"));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify({ auths: { [registry]: { auth: Buffer.from(`${user}:${password}`).toString("base64") } } }));
  return dir;
}

export const DIGEST = /^sha256:[0-9a-f]{64}\n$/;

/** `docker …` without blocking the event loop (the registry proxy runs in this process). */
export function dockerAsync(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("/usr/bin/docker", [...args], { maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
