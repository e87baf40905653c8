import { spawnSync } from "node:child_process";

/**
 * Whether this run is CI's: `CI` set to anything but empty, `0` or `false` (what GitHub Actions,
 * GitLab and `.ci/run` export).
 */
export function underCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.CI;
  return v !== undefined && v !== "" && v !== "0" && v.toLowerCase() !== "false";
}

/**
 * Whether a suite must skip because something it needs is missing here: `true` on a developer's
 * machine (said once on stderr), while under `CI=true` it throws, so the suite fails instead.
 * CI installs every tool the tests use (`.ci/run`); a suite that skips there passes having
 * tested nothing. Every test that depends on the host (docker, runc, root, the corpus, …)
 * asks here, never with its own `skipIf(!have)`.
 *
 * @param needs what the suite needs, each with whether this host has it
 * @example describe.skipIf(missing({ dockerd: dockerAvailable(), root: isRoot }))("…", () => {})
 */
export function missing(needs: Readonly<Record<string, boolean>>, env: NodeJS.ProcessEnv = process.env): boolean {
  const absent = Object.entries(needs)
    .filter(([, ok]) => !ok)
    .map(([name]) => name);
  if (absent.length === 0) return false;
  if (underCi(env)) throw new Error(`under CI this suite needs ${absent.join(", ")}, which this host lacks (install it in .ci/run; a missing tool fails in CI, it never skips)`);
  const key = absent.join(", ");
  if (!warned.has(key)) {
    warned.add(key);
    process.stderr.write(`skipping tests that need ${key} (missing here; under CI=true they fail)\n`);
  }
  return true;
}
const warned = new Set<string>();

/** Whether `cmd args…` runs and exits 0 (a tool's `--version`, `docker info`). */
export function runs(cmd: string, args: readonly string[] = ["--version"]): boolean {
  const r = spawnSync(cmd, args, { stdio: "ignore", timeout: 30_000 });
  return !r.error && r.status === 0;
}

/** Whether `name` is on PATH. */
export function onPath(name: string): boolean {
  return spawnSync("sh", ["-c", 'command -v "$1"', "sh", name], { stdio: "ignore" }).status === 0;
}

/** Whether this process runs as root (RUN steps, overlay mounts, chown). */
export const isRoot = process.getuid?.() === 0;
