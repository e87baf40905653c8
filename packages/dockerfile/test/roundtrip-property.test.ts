import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { exportDockerfile } from "../src/export/export-dockerfile.ts";
import { importDockerfile } from "../src/import/import-dockerfile.ts";

/**
 * The round-trip invariant over generated Dockerfiles: for every Dockerfile D and each of its
 * stages, digest(import(D)) == digest(import(export(import(D)))), and export is idempotent.
 * The generator covers every instruction, the flags the importer maps, quoting, variables with
 * modifiers, heredocs, multi-stage references and global ARGs.
 */
const name = fc.constantFrom("A", "B", "VERSION", "HOME_DIR", "port", "X_1");
const plain = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,8}$/);
const path = fc.array(plain, { minLength: 1, maxLength: 3 }).map((p) => `/${p.join("/")}`);
const varRef = fc.tuple(name, fc.constantFrom("", ":-", "-", ":+", "+", "#", "%%", "/")).chain(([n, m]) =>
  m === "" ? fc.constantFrom(`$${n}`, `\${${n}}`) : m === "/" ? plain.map((w) => `\${${n}/${w}/x}`) : plain.map((w) => `\${${n}${m}${w}}`),
);
/** A word that may hold variables, quotes and escapes (what BuildKit expands). */
const word = fc
  .array(fc.oneof({ weight: 4, arbitrary: plain }, { weight: 2, arbitrary: varRef }, { weight: 1, arbitrary: plain.map((p) => `"${p} ${p}"`) }, { weight: 1, arbitrary: plain.map((p) => `'$${p}'`) }), { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join(""));
/** A word without spaces (COPY splits its arguments on whitespace before any quote processing). */
const tightWord = fc
  .array(fc.oneof({ weight: 4, arbitrary: plain }, { weight: 2, arbitrary: varRef }, { weight: 1, arbitrary: plain.map((p) => `'$${p}'`) }), { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join(""));
const script = fc.array(fc.constantFrom("echo hi", "make", "apt-get update", "ls -la /", "true", 'echo "$A"', "cd /tmp && ls"), { minLength: 1, maxLength: 3 }).map((c) => c.join(" && "));

function instruction(stages: readonly string[]): fc.Arbitrary<string> {
  const from = stages.length ? fc.option(fc.constantFrom(...stages), { nil: undefined }) : fc.constant(undefined);
  return fc.oneof(
    fc.tuple(name, fc.option(word, { nil: undefined })).map(([n, d]) => (d === undefined ? `ARG ${n}` : `ARG ${n}=${d}`)),
    fc.array(fc.tuple(name, word), { minLength: 1, maxLength: 3 }).map((kv) => `ENV ${kv.map(([k, v]) => `${k}=${v}`).join(" ")}`),
    fc.tuple(name, plain).map(([k, v]) => `ENV ${k} ${v}`),
    fc.array(fc.tuple(plain, word), { minLength: 1, maxLength: 2 }).map((kv) => `LABEL ${kv.map(([k, v]) => `${k}=${v}`).join(" ")}`),
    script.map((s) => `RUN ${s}`),
    fc.array(plain, { minLength: 1, maxLength: 3 }).map((a) => `RUN ${JSON.stringify(a)}`),
    script.map((s) => `RUN --mount=type=cache,target=/root/.cache,id=c --network=none ${s}`),
    fc.tuple(from, path).map(([f, p]) => `RUN --mount=type=bind,${f ? `from=${f},` : ""}target=${p} ls`),
    script.map((s) => `RUN --mount=type=secret,id=tok,env=TOKEN ${s}`),
    script.map((s) => `RUN <<EOF\n${s.split(" && ").join("\n")}\nEOF`),
    fc.tuple(from, fc.array(tightWord, { minLength: 1, maxLength: 2 }), path).map(([f, srcs, d]) => `COPY ${f ? `--from=${f} ` : ""}${srcs.join(" ")} ${d}/`),
    fc.tuple(tightWord, path, fc.constantFrom("", "--chown=1000:1000 ", "--chmod=755 ", "--link ")).map(([s, d, flag]) => `COPY ${flag}${s} ${d}`),
    fc.tuple(plain, path).map(([n, d]) => `COPY <<${n.toUpperCase().replace(/[^A-Z]/g, "") || "EOF"} ${d}\nline $A\nEOF`.replace(/<<(\w+) (\S+)\nline \$A\nEOF/, "<<$1 $2\nline $A\n$1")),
    fc.tuple(path).map(([d]) => `ADD https://example.com/a.tar.gz ${d}`),
    tightWord.map((w) => `WORKDIR /${w}`),
    fc.constantFrom("USER app", "USER 1000:1000", "USER $A"),
    fc.array(fc.constantFrom("80", "443/tcp", "53/udp", "$port"), { minLength: 1, maxLength: 3 }).map((p) => `EXPOSE ${p.join(" ")}`),
    fc.array(path, { minLength: 1, maxLength: 2 }).map((p) => `VOLUME ${JSON.stringify(p)}`),
    fc.array(plain, { minLength: 1, maxLength: 3 }).map((a) => `CMD ${JSON.stringify(a)}`),
    script.map((s) => `CMD ${s}`),
    fc.array(plain, { minLength: 1, maxLength: 2 }).map((a) => `ENTRYPOINT ${JSON.stringify(a)}`),
    fc.constantFrom("HEALTHCHECK NONE", 'HEALTHCHECK --interval=30s --retries=3 CMD ["true"]', "HEALTHCHECK --timeout=1m30s CMD curl -f http://localhost/"),
    fc.constantFrom("STOPSIGNAL SIGINT", 'SHELL ["/bin/bash", "-c"]', "ONBUILD RUN make", "MAINTAINER someone"),
  );
}

const dockerfile: fc.Arbitrary<string> = fc
  .tuple(
    fc.array(fc.tuple(name, fc.option(plain, { nil: undefined })), { maxLength: 3 }),
    fc.integer({ min: 1, max: 3 }),
    fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 30, maxLength: 30 }),
  )
  .chain(([globals, count, seeds]) => {
    const stages: fc.Arbitrary<string>[] = [];
    for (let i = 0; i < count; i++) {
      const names = Array.from({ length: i }, (_, k) => `s${k}`);
      const base = fc.oneof(fc.constantFrom("debian:12", "alpine:3.20", "scratch", "golang:${A}"), names.length ? fc.constantFrom(...names) : fc.constant("busybox"));
      stages.push(fc.tuple(base, fc.array(instruction(names), { minLength: 1, maxLength: 6 })).map(([b, ins]) => [`FROM ${b} AS s${i}`, ...ins].join("\n")));
    }
    void seeds;
    return fc.tuple(...stages).map((s) => `${[...globals.map(([n, d]) => (d === undefined ? `ARG ${n}` : `ARG ${n}=${d}`)), ...s].join("\n")}\n`);
  });

describe("round trip over generated Dockerfiles", () => {
  test("digest(import(D)) == digest(import(export(import(D)))); export is idempotent", () => {
    fc.assert(
      fc.property(dockerfile, (text) => {
        const a = importDockerfile(text);
        for (const s of a.stages) {
          const g = s.image.toGraph();
          const out = exportDockerfile(g, { targetName: s.name });
          const b = importDockerfile(out.dockerfile, out.dockerignore ? { ignore: out.dockerignore.trim().split("\n") } : {});
          const again = b.stages[b.stages.length - 1]!.image.toGraph();
          expect(again.digest, `${text}\n--- exported ---\n${out.dockerfile}`).toBe(g.digest);
          expect(exportDockerfile(again, { targetName: s.name }).dockerfile).toBe(out.dockerfile);
        }
      }),
      { numRuns: 400, seed: 20261126 },
    );
  });
});
