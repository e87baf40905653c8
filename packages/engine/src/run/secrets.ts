import { mkdirSync, readFileSync, rmSync, writeFileSync, chownSync } from "node:fs";
import { join } from "node:path";
import { StrataError } from "@strata/graph";
import { memoryDir } from "../sandbox-util/memory-dir.ts";
import type { SecretSource } from "../solver/options.ts";

/** Reads a secret's bytes (never logged, never part of a cache key). */
export function secretValue(id: string, src: SecretSource | undefined): Uint8Array | undefined {
  if (!src) return undefined;
  if ("value" in src) return src.value;
  if ("env" in src) {
    const v = process.env[src.env];
    if (v === undefined) throw new StrataError("STRATA_SECRET_MISSING", `secret ${JSON.stringify(id)}: the environment variable ${src.env} is not set`);
    return new TextEncoder().encode(v);
  }
  try {
    return readFileSync(src.file);
  } catch (e) {
    throw new StrataError("STRATA_SECRET_MISSING", `secret ${JSON.stringify(id)}: cannot read ${src.file}: ${(e as Error).message}`);
  }
}

/**
 * A private directory on a memory file system for one step's secret files: they are bind-mounted
 * read-only into the step and removed right after, never touching a layer or the store.
 */
export class SecretDir {
  readonly dir: string;
  constructor() {
    // Named with our pid: the next build removes it if we are killed before dispose().
    this.dir = memoryDir("secrets");
  }

  write(id: string, bytes: Uint8Array, opts: { uid?: number | undefined; gid?: number | undefined; mode?: number | undefined }): string {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = join(this.dir, `${Buffer.from(id).toString("hex")}`);
    writeFileSync(file, bytes, { mode: opts.mode ?? 0o400 });
    if (process.getuid?.() === 0) chownSync(file, opts.uid ?? 0, opts.gid ?? 0);
    return file;
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
