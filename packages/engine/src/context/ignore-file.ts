import { readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { cleanPath } from "./go-path.ts";

/**
 * Parses `.dockerignore` text as Docker's CLI does (moby/patternmatcher/ignorefile):
 * - a UTF-8 byte-order mark on the first line is dropped; lines end at `\n` (a `\r` before it
 *   is dropped too);
 * - a line whose *first* character is `#` is a comment (` #x` is a pattern);
 * - surrounding whitespace is trimmed; blank lines are skipped;
 * - `!` marks an exception; the rest is `filepath.Clean`ed and a leading `/` removed, so
 *   `/foo/../bar/` becomes `bar`.
 * A lone `!` is kept (as Docker does) and rejected by the matcher.
 */
export function parseIgnoreFile(text: string): string[] {
  const out: string[] = [];
  const lines = text.split("\n");
  lines.forEach((raw, i) => {
    let line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (i === 0 && line.startsWith("\ufeff")) line = line.slice(1);
    if (line.startsWith("#")) return;
    let pattern = line.trim();
    if (pattern === "") return;
    const invert = pattern.startsWith("!");
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith("/")) pattern = pattern.slice(1);
    }
    out.push(invert ? `!${pattern}` : pattern);
  });
  return out;
}

export interface IgnoreFile {
  /** Absolute path of the file that was read. */
  readonly path: string;
  readonly patterns: string[];
}

/**
 * The ignore file that applies to a build: `<Dockerfile>.dockerignore` beside the Dockerfile
 * (e.g. `build/app.Dockerfile.dockerignore`) takes precedence over `<context>/.dockerignore`;
 * the two are never merged. `dockerfile` is absolute or relative to the context; undefined
 * when the build has no Dockerfile (an `.image.ts` build). Returns undefined when neither exists.
 */
export function findIgnoreFile(contextDir: string, dockerfile?: string): IgnoreFile | undefined {
  const candidates: string[] = [];
  if (dockerfile !== undefined) {
    const df = resolve(contextDir, dockerfile);
    candidates.push(join(dirname(df), `${basename(df)}.dockerignore`));
  }
  candidates.push(join(contextDir, ".dockerignore"));
  for (const path of candidates) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") continue;
      throw e;
    }
    return { path, patterns: parseIgnoreFile(text) };
  }
  return undefined;
}
