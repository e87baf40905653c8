import { execFile } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describeOp, opDigest, resolveLocation, StrataError, type SourceOp } from "@strata/graph";
import { cacheKey } from "./cache-key.ts";
import type { TreeResult } from "./results.ts";
import type { SolverContext } from "./solver.ts";

const run = promisify(execFile);

/**
 * ADD <git url>#ref: resolve the ref to a commit (`git ls-remote`), and check that commit out
 * once into the store (shallow). The commit is the cache key, so a moved branch rebuilds and
 * an unchanged one does not.
 */
export async function gitCheckout(ctx: SolverContext, op: SourceOp, url: string, ref: string | undefined, keepGitDir: boolean, checksum: string | undefined): Promise<TreeResult> {
  const loc = resolveLocation(op.meta);
  const fail = (what: string, e: unknown) =>
    new StrataError("STRATA_GIT_FAILED", `${what} ${url}${ref ? `#${ref}` : ""}: ${((e as { stderr?: string }).stderr ?? (e as Error).message).trim()}`, { locations: [loc] });
  let commit = /^[0-9a-f]{40}$/.test(ref ?? "") ? ref! : undefined;
  if (!commit) {
    try {
      const out = (await run("git", ["ls-remote", url, ref ?? "HEAD"], { signal: ctx.signal })).stdout.trim().split("\n")[0] ?? "";
      commit = out.split(/\s+/)[0];
    } catch (e) {
      throw fail("cannot resolve", e);
    }
    if (!commit) throw new StrataError("STRATA_GIT_FAILED", `${url} has no ref ${ref ?? "HEAD"}`, { locations: [loc] });
  }
  if (checksum && !commit.startsWith(checksum)) {
    throw new StrataError("STRATA_CHECKSUM_MISMATCH", `${url}#${ref ?? "HEAD"} is commit ${commit}, not ${checksum}`, { locations: [loc] });
  }
  const dir = ctx.store.path("git", `${commit}${keepGitDir ? "-git" : ""}`);
  if (!existsSync(dir)) {
    const id = opDigest(op);
    const started = ctx.now();
    ctx.opts.progress({ type: "step-start", at: started, id, name: describeOp(op), ...(loc ? { location: loc } : {}) });
    const tmp = ctx.store.tmpDir("git");
    try {
      await run("git", ["init", "-q", tmp]);
      await run("git", ["-C", tmp, "fetch", "-q", "--depth", "1", url, commit], { signal: ctx.signal });
      await run("git", ["-C", tmp, "checkout", "-q", commit]);
      if (!keepGitDir) rmSync(join(tmp, ".git"), { recursive: true, force: true });
      mkdirSync(ctx.store.path("git"), { recursive: true });
      renameSync(tmp, dir);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw fail("cannot fetch", e);
    }
    ctx.opts.progress({ type: "step-done", at: ctx.now(), id, name: describeOp(op), cached: false, ms: ctx.now() - started });
  }
  return { kind: "tree", key: cacheKey("git", { commit, keepGitDir }), dir };
}
