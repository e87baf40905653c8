import { SourceOp, templateFromUser, type Op, type Source } from "@strata/graph";
import { captureCallsite } from "./callsite.ts";
import type { Image } from "./image.ts";

const DIRECTORY = Symbol.for("strata.directory");
const SOURCE = Symbol.for("strata.copySource");

/** A set of paths inside some filesystem (a context, another image, a download) that copy/add read. */
export interface CopyFrom {
  readonly [SOURCE]: true;
  /** The filesystem read from: a source op, or an image (whose root filesystem is read). */
  readonly origin: { readonly op: Op } | { readonly image: Image };
  /** Paths or globs inside it (templates). */
  readonly paths: readonly string[];
  /** What a Dockerfile would say for the origin (`context`, an http URL, a git URL): used in history. */
  readonly label: string;
}

/** Whether a value is a CopyFrom (`context()`, `http()`, `git()`, `image.path()`): something copy/add can read. */
export function isCopyFrom(value: unknown): value is CopyFrom {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[SOURCE] === true;
}

function copyFrom(origin: CopyFrom["origin"], paths: readonly string[], label: string): CopyFrom {
  return Object.freeze({ [SOURCE]: true as const, origin, paths: Object.freeze(paths.map(templateFromUser)), label });
}

/** Options of `context(path, options)`: which files of a local directory the build may read. */
export interface ContextOptions {
  /** Only these paths (globs) are read from the directory. */
  readonly include?: readonly string[];
  /** These paths (globs, `.dockerignore` syntax) are never read, in addition to what the directory's `.dockerignore` lists. */
  readonly exclude?: readonly string[];
  /**
   * Apply the `.dockerignore` in the directory (as `docker build` does for its context), read
   * when the module is loaded; explicit `exclude` patterns add to it. Default true; `false`
   * reads the directory as it is.
   */
  readonly dockerignore?: boolean;
  /** The context's name; a build can point each name elsewhere (`--context name=dir`). Default `context`. */
  readonly name?: string;
}

/** A local directory (by default the build context): copy all of it, some files, or a subpath. */
export interface Directory extends CopyFrom {
  readonly [DIRECTORY]: true;
  /** Selected files or globs, e.g. `src.files("package.json", "package-lock.json")`. */
  files(...paths: string[]): CopyFrom;
  /** One path inside the directory. */
  path(path: string): CopyFrom;
}

/**
 * A local directory, relative to the `.image.ts` file (or to `--context` for the default one).
 * The path is kept relative so a graph's digest does not depend on where the repo is checked out.
 */
export function context(path = ".", options: ContextOptions = {}): Directory {
  if (path.startsWith("/")) {
    throw new TypeError(`context(${JSON.stringify(path)}): use a path relative to the image file, so the graph does not depend on the checkout location`);
  }
  const exclude = contextExclude(options.dockerignore === false ? [] : (contextIgnore(path) ?? []), options.exclude ?? []);
  const source: Source = {
    type: "local",
    name: options.name ?? "context",
    ...(path !== "." ? { path } : {}),
    ...(options.include?.length ? { include: [...options.include] } : {}),
    ...(exclude.length ? { exclude } : {}),
  };
  // An unfiltered subdirectory of the build context is the build context read under that
  // prefix (`context("app").path("f")` is `COPY app/f`): one graph for one meaning, which a
  // Dockerfile can say. Filters or a name make a context of its own.
  const sub = source.name === "context" && source.path !== undefined && !source.include && !source.exclude ? subdirPrefix(source.path) : undefined;
  const op = sub !== undefined ? defaultContextOp() : SourceOp.create(source, { location: captureCallsite() });
  const under = (paths: readonly string[]) => (sub === undefined ? paths : paths.map((p) => underPrefix(sub, p, path)));
  const base = copyFrom({ op }, under(["."]), source.name);
  return Object.freeze({
    ...base,
    [DIRECTORY]: true as const,
    files: (...paths: string[]) => {
      if (!paths.length) throw new TypeError("files() needs at least one path");
      return copyFrom({ op }, under(paths), source.name);
    },
    path: (p: string) => copyFrom({ op }, under([p]), source.name),
  });
}

/**
 * The `.dockerignore` patterns of a directory relative to the image module. The builders do no
 * I/O (they also run where there is no filesystem); the loader that evaluates a module installs
 * this reader for the duration of the evaluation.
 */
function contextIgnore(path: string): readonly string[] | undefined {
  const reader = (globalThis as Record<symbol, unknown>)[Symbol.for("strata.contextIgnore")];
  return typeof reader === "function" ? (reader as (p: string) => readonly string[] | undefined)(path) : undefined;
}

/**
 * The `.dockerignore` patterns, then the explicit ones. Patterns apply in order (the last match
 * wins), so an explicit list that already starts with the whole `.dockerignore` list (what
 * `strata import` writes) means the same alone and is kept as it is: the graph of an imported
 * module stays the Dockerfile's.
 */
function contextExclude(ignored: readonly string[], explicit: readonly string[]): string[] {
  const startsWithIgnored = ignored.length <= explicit.length && ignored.every((p, i) => explicit[i] === p);
  return startsWithIgnored ? [...explicit] : [...ignored, ...explicit];
}

/** `./app/` → `app`; undefined for the context itself or a path that leaves it (kept as its own context, which refuses it). */
function subdirPrefix(path: string): string | undefined {
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  if (!parts.length || parts.includes("..") || parts.some((p) => /[*?[$]/.test(p))) return undefined;
  return parts.join("/");
}

/** A path inside a subdirectory context as a path of the build context; `..` may not leave the subdirectory. */
function underPrefix(prefix: string, p: string, dir: string): string {
  const parts = p.split("/").filter((x) => x !== "" && x !== ".");
  let depth = 0;
  for (const x of parts) {
    depth += x === ".." ? -1 : 1;
    if (depth < 0) throw new TypeError(`context(${JSON.stringify(dir)}): ${JSON.stringify(p)} leaves the directory`);
  }
  return parts.length ? `${prefix}/${parts.join("/")}` : prefix;
}

/** The default build context, shared so that `copy("a", …)` and `copy(context().files("a"), …)` give one op. */
let sharedContextOp: Op | undefined;
function defaultContextOp(): Op {
  sharedContextOp ??= SourceOp.create({ type: "local", name: "context" });
  return sharedContextOp;
}
export function defaultContextFiles(paths: readonly string[]): CopyFrom {
  return copyFrom({ op: defaultContextOp() }, paths, "context");
}

/**
 * Options of `http(url, options)` (Dockerfile `ADD --checksum=… <url>`).
 *
 * @example
 * base.add(http("https://example.com/tool.tgz", { checksum: "sha256:…" }), "/opt/")
 */
export interface HttpOptions {
  /** Expected digest of the download (`sha256:…`); a mismatch fails the build. Strongly recommended. */
  readonly checksum?: `sha256:${string}`;
  /** File name in the destination (default: the last URL path segment). */
  readonly filename?: string;
}

/** A file downloaded over HTTP(S), as `ADD <url>` does. */
export function http(url: string, options: HttpOptions = {}): CopyFrom {
  if (!/^https?:\/\//.test(url)) throw new TypeError(`http(${JSON.stringify(url)}): the URL must start with http:// or https://`);
  const op = SourceOp.create(
    {
      type: "http",
      url: templateFromUser(url),
      ...(options.checksum ? { checksum: options.checksum } : {}),
      ...(options.filename ? { filename: options.filename } : {}),
    },
    { location: captureCallsite() },
  );
  return copyFrom({ op }, ["."], url);
}

/**
 * Options of `git(url, options)` (Dockerfile `ADD [--keep-git-dir] <git url>#ref`).
 *
 * @example
 * base.add(git("https://github.com/acme/lib.git", { ref: "v1.2.0" }), "/src/lib")
 */
export interface GitOptions {
  /** Branch, tag or commit. */
  readonly ref?: string;
  /** Keep the `.git` directory (ADD --keep-git-dir). */
  readonly keepGitDir?: boolean;
  /** Expected commit (ADD --checksum for git sources). */
  readonly checksum?: string;
}

/** A git repository's tree, as `ADD <git url>` reads it. */
export function git(url: string, options: GitOptions = {}): CopyFrom {
  const op = SourceOp.create(
    {
      type: "git",
      url: templateFromUser(url),
      ...(options.ref ? { ref: templateFromUser(options.ref) } : {}),
      ...(options.keepGitDir ? { keepGitDir: true } : {}),
      ...(options.checksum ? { checksum: options.checksum } : {}),
    },
    { location: captureCallsite() },
  );
  return copyFrom({ op }, ["."], url);
}

/** Paths inside another image's filesystem (what Dockerfile `COPY --from=stage` reads). */
export function imagePaths(image: Image, paths: readonly string[]): CopyFrom {
  return copyFrom({ image }, paths, "image");
}
