import { existsSync } from "node:fs";
import { join } from "node:path";

/**
 * The real-world Dockerfile corpus, read in place (never copied into the repository):
 * `$STRATA_DOCKERFILE_CORPUS`, else `../shared/corpus/dockerfiles` beside the repository, else
 * the workplace's `/work/shared/corpus/dockerfiles`. Undefined when none exists (the corpus
 * suites then skip on a developer's machine and fail under CI: see requires.ts).
 */
export const CORPUS_DIR: string | undefined = [
  process.env.STRATA_DOCKERFILE_CORPUS,
  join(import.meta.dirname, "..", "..", "..", "shared", "corpus", "dockerfiles"),
  "/work/shared/corpus/dockerfiles",
].find((d): d is string => d !== undefined && existsSync(d));
