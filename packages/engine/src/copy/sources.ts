import { StrataError } from "@strata/graph";
import { joinRel, rootRelative, sortBytes } from "../context/go-path.ts";
import { containsWildcards, goMatch } from "../context/go-match.ts";
import { PatternMatcher } from "../context/pattern-matcher.ts";
import { resolveInRoot } from "./resolve-path.ts";
import type { SourceNode, SourceTree } from "./source-tree.ts";

/** One path a COPY source argument selected. */
export interface ResolvedSource {
  /** The argument as written. */
  readonly arg: string;
  /** The matched path in the tree (its base name names the copy). */
  readonly path: string;
  /** The path actually read: `path` with symlinks followed (scoped to the tree). */
  readonly followed: string;
  readonly node: SourceNode;
  /** `--parents`: the pattern (relative to `path`) selecting what is copied below it. */
  readonly include?: PatternMatcher;
}

export interface ResolveOptions {
  readonly parents?: boolean;
  /** Follow a symlink named by a source (Dockerfile COPY does). Default true. */
  readonly followSymlinks?: boolean;
  /**
   * `--exclude`: also drops wildcard matches whose path below the wildcard's directory
   * matches (`COPY --exclude=*.txt hom* /d/` copies no `home.txt`, as the Dockerfile
   * reference describes). A source named without wildcards is never excluded itself.
   */
  readonly exclude?: PatternMatcher;
}

/**
 * Resolves one source argument as BuildKit does: the path is taken relative to the tree's
 * root (`/a`, `./a` and `a` are the same; `..` stops at the root); the first component with a
 * wildcard and everything after it is matched with Go's `filepath.Match` against the paths
 * below the part before it (in lexical order, not descending into a matched directory, not
 * following symlinked directories); a path without wildcards must exist.
 * With `parents`, `a/./b/*.txt` selects `b/*.txt` below `a` (the `./` is the pivot; without
 * one the pivot is the root), keeping the directories between pivot and match.
 */
export function resolveSources(tree: SourceTree, arg: string, opts: ResolveOptions = {}): ResolvedSource[] {
  const follow = opts.followSymlinks ?? true;
  let src = arg;
  let include: PatternMatcher | undefined;
  let required: string | undefined;
  if (opts.parents) {
    const pivot = arg.indexOf("/./");
    const pattern = rootRelative(pivot < 0 ? arg : arg.slice(pivot + 3));
    src = pivot < 0 ? "/" : arg.slice(0, pivot);
    if (pattern !== "") include = new PatternMatcher([pattern]);
    if (!containsWildcards(src) && !containsWildcards(pattern)) required = joinRel(rootRelative(src), pattern);
  }
  const lstat = (p: string) => tree.lstat(p);
  if (required !== undefined && tree.lstat(resolveInRoot(lstat, required, follow)) === undefined) throw notFound(arg);

  const clean = rootRelative(src);
  const parts = clean === "" ? [] : clean.split("/");
  const w = parts.findIndex(containsWildcards);
  let paths: string[];
  if (w < 0) {
    paths = [clean];
  } else {
    const baseDir = resolveInRoot(lstat, parts.slice(0, w).join("/"), true);
    const pattern = parts.slice(w).join("/");
    // fsutil walks the part before the wildcard: it must exist (a missing one is an error
    // even though an unmatched wildcard is not).
    if (!tree.lstat(baseDir)) throw notFound(arg);
    paths = [];
    const visit = (rel: string) => {
      const dir = joinRel(baseDir, rel);
      const node = tree.lstat(dir);
      if (node?.type !== "directory") return;
      for (const name of sortBytes([...tree.readdir(dir)])) {
        const childRel = joinRel(rel, name);
        if (goMatch(pattern, childRel)) {
          if (!opts.exclude?.matches(childRel)) paths.push(joinRel(baseDir, childRel));
          continue; // a matched directory is copied whole, not searched further
        }
        if (tree.lstat(joinRel(baseDir, childRel))?.type === "directory") visit(childRel);
      }
    };
    visit("");
  }
  const out: ResolvedSource[] = [];
  for (const path of paths) {
    const followed = resolveInRoot(lstat, path, follow);
    const node = tree.lstat(followed);
    if (!node) {
      if (w < 0) throw notFound(arg);
      continue; // a dangling symlink matched by a wildcard
    }
    out.push({ arg, path, followed, node, ...(include ? { include } : {}) });
  }
  return out;
}

function notFound(arg: string): StrataError {
  return new StrataError("STRATA_COPY_NO_MATCH", `COPY source ${JSON.stringify(arg)} not found`, {
    hint: "source paths are relative to the build context (or the source image's root); check .dockerignore",
  });
}
