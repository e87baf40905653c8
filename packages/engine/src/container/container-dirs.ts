import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { StrataError, type Digest } from "@strata/graph";
import { unmountAllUnder } from "../snapshot/index.ts";
import { readJsonOrUndefined, writeJsonAtomic } from "../store/atomic.ts";
import type { Store } from "../store/store.ts";

/** A container name, as docker allows them. */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

/** What `containers/<name>/container.json` records about a kept container. */
export interface ContainerRecord {
  readonly name: string;
  readonly image: string;
  readonly manifest: Digest;
  readonly argv: readonly string[];
  readonly created: string;
  readonly pid: number;
  readonly finished?: string;
  readonly exitCode?: number;
}

/** Where one container's writable layer lives: `upper/` (its changes), `work/`, `merged/` (the mounted root). */
export interface ContainerDirs {
  readonly dir: string;
  readonly upper: string;
  readonly work: string;
  readonly merged: string;
  /** Named containers keep their directory (and record) until `strata rm`; others are removed at exit. */
  readonly keep: boolean;
}

/**
 * The writable layer of a run. Without a name it is a fresh directory under the store's tmp/
 * (removed at exit, and by `strata cache prune` if the CLI was killed); with `--name` it is
 * `containers/<name>/`, kept after exit so its changes can be looked at, until `strata rm NAME`.
 * A name in use is an error, as in docker (`--rm` removes it at exit).
 */
export function createContainerDirs(store: Store, name: string | undefined, record: Omit<ContainerRecord, "name">): ContainerDirs {
  if (name === undefined) {
    const dir = store.tmpDir("container");
    return { dir, upper: join(dir, "upper"), work: join(dir, "work"), merged: join(dir, "merged"), keep: false };
  }
  checkName(name);
  const dir = store.path("containers", name);
  mkdirSync(store.path("containers"), { recursive: true, mode: 0o700 });
  try {
    // mkdir without recursive fails when the name is taken: the claim is atomic between two runs.
    mkdirSync(dir, { mode: 0o700 });
  } catch {
    throw new StrataError("STRATA_CONTAINER_NAME_IN_USE", `the container name ${JSON.stringify(name)} is already in use`, {
      hint: `remove it with \`strata rm ${name}\`, or choose another --name`,
    });
  }
  writeJsonAtomic(join(dir, "container.json"), { name, ...record });
  return { dir, upper: join(dir, "upper"), work: join(dir, "work"), merged: join(dir, "merged"), keep: true };
}

/** Updates a kept container's record when it has exited. */
export function recordExit(dirs: ContainerDirs, exitCode: number): void {
  const path = join(dirs.dir, "container.json");
  const rec = readJsonOrUndefined<ContainerRecord>(path);
  if (rec) writeJsonAtomic(path, { ...rec, finished: new Date().toISOString(), exitCode });
}

/** Kept containers, by name. */
export function listContainers(store: Store): ContainerRecord[] {
  let names: string[];
  try {
    names = readdirSync(store.path("containers"));
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    const rec = readJsonOrUndefined<ContainerRecord>(store.path("containers", n, "container.json"));
    return rec ? [{ ...rec, name: n }] : [];
  });
}

/**
 * `strata rm NAME`: removes a kept container's writable layer. A container whose `strata run`
 * is still alive is refused (unless `force`), like `docker rm` of a running container.
 */
export async function removeContainer(store: Store, name: string, opts: { force?: boolean } = {}): Promise<void> {
  checkName(name);
  const dir = store.path("containers", name);
  if (!existsSync(dir)) throw new StrataError("STRATA_CONTAINER_NOT_FOUND", `no container ${JSON.stringify(name)}`, { hint: "containers are kept only when run with --name" });
  const rec = readJsonOrUndefined<ContainerRecord>(join(dir, "container.json"));
  if (rec && rec.finished === undefined && isAlive(rec.pid) && !opts.force) {
    throw new StrataError("STRATA_CONTAINER_RUNNING", `container ${JSON.stringify(name)} is running (strata run pid ${rec.pid})`, { hint: "stop it first, or use strata rm --force" });
  }
  await unmountAllUnder(dir);
  rmSync(dir, { recursive: true, force: true });
}

function checkName(name: string): void {
  if (!NAME.test(name)) {
    throw new StrataError("STRATA_CONTAINER_BAD_NAME", `${JSON.stringify(name)} is not a valid container name`, { hint: "letters, digits, _ . - (starting with a letter or digit)" });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
