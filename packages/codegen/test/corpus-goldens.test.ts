// Ten diverse real-world Dockerfiles (read in place from the corpus, never copied here) and the
// modules generated from them, committed as reviewed goldens: what a user converting those
// projects reads. Regenerate with STRATA_UPDATE_GOLDENS=1 and review the diff.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { generateImageModule } from "../src/index.ts";
import { CORPUS_DIR } from "../../../test/helpers/corpus.ts";
import { missing } from "../../../test/helpers/requires.ts";

const GOLDENS = join(import.meta.dirname, "corpus-goldens");

/** Variable stages, heavy shell, comment-dense ARG lists, Windows escapes, cross-compilation, many stages. */
export const GOLDEN_FILES = [
  "docker__buildx__Dockerfile.Dockerfile",
  "paperless-ngx__paperless-ngx__Dockerfile.Dockerfile",
  "docker-library__python__3.14__trixie__Dockerfile.Dockerfile",
  "tailscale__tailscale__Dockerfile.Dockerfile",
  "AdguardTeam__AdGuardHome__docker__build.Dockerfile.Dockerfile",
  "dani-garcia__vaultwarden__docker__Dockerfile.alpine.Dockerfile",
  "docker-library__postgres__18__trixie__Dockerfile.Dockerfile",
  "docker-library__python__3.14__windows__windowsservercore-ltsc2022__Dockerfile.Dockerfile",
  "tonistiigi__xx__src__Dockerfile.Dockerfile",
  "docker-library__httpd__2.4__Dockerfile.Dockerfile",
];

const CORPUS = CORPUS_DIR ?? "(no corpus)";
const present = GOLDEN_FILES.every((f) => existsSync(join(CORPUS, f)));
describe.skipIf(missing({ "the Dockerfile corpus (../shared/corpus/dockerfiles)": present }))("corpus goldens: the generated modules as reviewed", () => {
  test.each(GOLDEN_FILES)("%s", (f) => {
    const source = generateImageModule(readFileSync(join(CORPUS, f)), { file: f }).source;
    const golden = join(GOLDENS, f.replace(/\.Dockerfile$/, ".image.ts"));
    if (process.env.STRATA_UPDATE_GOLDENS === "1") writeFileSync(golden, source);
    expect(source).toBe(readFileSync(golden, "utf8"));
  });
});
