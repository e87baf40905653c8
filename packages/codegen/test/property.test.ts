import fc from "fast-check";
import { importDockerfile } from "@strata/dockerfile";
import { describe, expect, test } from "vitest";
import { generateImageModule } from "../src/index.ts";
import { digestMismatches, typeErrors } from "./helpers/invariants.ts";

/**
 * The invariants over generated Dockerfiles. The generator is the one of
 * packages/dockerfile/test/roundtrip-property.test.ts (every instruction, flags, quoting,
 * variables with modifiers, heredocs, multi-stage references, global ARGs), extended with what
 * the code generator must get right on top: stage names that are not identifiers or are
 * reserved words, `--from` by index and by image, comments, continuation lines with characters
 * that need escaping in template literals, the escape directive, re-declared and typed global
 * args, platforms and a .dockerignore.
 */
const name = fc.constantFrom("A", "B", "VERSION", "HOME_DIR", "port", "X_1", "APP_PORT", "ENABLE_X");
const plain = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,8}$/);
const path = fc.array(plain, { minLength: 1, maxLength: 3 }).map((p) => `/${p.join("/")}`);
const varRef = fc.tuple(name, fc.constantFrom("", ":-", "-", ":+", "+", "#", "%%", "/")).chain(([n, m]) =>
  m === "" ? fc.constantFrom(`$${n}`, `\${${n}}`) : m === "/" ? plain.map((w) => `\${${n}/${w}/x}`) : plain.map((w) => `\${${n}${m}${w}}`),
);
const word = fc
  .array(fc.oneof({ weight: 4, arbitrary: plain }, { weight: 2, arbitrary: varRef }, { weight: 1, arbitrary: plain.map((p) => `"${p} ${p}"`) }, { weight: 1, arbitrary: plain.map((p) => `'$${p}'`) }), { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join(""));
const tightWord = fc
  .array(fc.oneof({ weight: 4, arbitrary: plain }, { weight: 2, arbitrary: varRef }, { weight: 1, arbitrary: plain.map((p) => `'$${p}'`) }), { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join(""));
const command = fc.constantFrom("echo hi", "make", "apt-get update", "ls -la /", "true", 'echo "$A"', "cd /tmp && ls", "echo `uname`", "echo ${HOME}", "printf 'a\\tb\\n'", "echo \\$x", "echo 'it''s'");
const script = fc.array(command, { minLength: 1, maxLength: 3 }).map((c) => c.join(" && "));
/** A RUN over several lines, docker-library style (`ESC` is replaced by the escape token). */
const continued = fc
  .tuple(fc.array(command, { minLength: 2, maxLength: 4 }), fc.constantFrom("\t", "    ", "  "), fc.constantFrom("; ", " && ", " "), fc.boolean())
  .map(([cmds, indent, sep, comment]) => `RUN ${cmds.map((c, i) => (i === 0 ? c : `${indent}${c}`)).join(`${sep}ESC\n${comment ? "# in between\n" : ""}`)}`);
const comment = fc.constantFrom("# a comment", "#tight", "#   indented `code` and ${x} and 'quotes'", "# one\n# two", "# first\n\n# after a blank line");
const stageName = fc.constantFrom("build", "build-env", "Builder", "from", "default", "class.v2", "x_1", "run", "node");

function instruction(stages: readonly string[], count: number): fc.Arbitrary<string> {
  const from = fc.oneof(
    stages.length ? fc.constantFrom(...stages) : fc.constant("alpine:3.20"),
    fc.constantFrom("busybox:1.36", "$A"),
    count ? fc.integer({ min: 0, max: count - 1 }).map(String) : fc.constant("busybox:1.36"),
  );
  const bare = fc.oneof(
    fc.tuple(name, fc.option(word, { nil: undefined })).map(([n, d]) => (d === undefined ? `ARG ${n}` : `ARG ${n}=${d}`)),
    fc.array(fc.tuple(name, word), { minLength: 1, maxLength: 3 }).map((kv) => `ENV ${kv.map(([k, v]) => `${k}=${v}`).join(" ")}`),
    fc.tuple(name, plain).map(([k, v]) => `ENV ${k} ${v}`),
    fc.array(fc.tuple(plain, word), { minLength: 1, maxLength: 2 }).map((kv) => `LABEL ${kv.map(([k, v]) => `${k}=${v}`).join(" ")}`),
    script.map((s) => `RUN ${s}`),
    continued,
    fc.array(plain, { minLength: 1, maxLength: 3 }).map((a) => `RUN ${JSON.stringify(a)}`),
    script.map((s) => `RUN --mount=type=cache,target=/root/.cache,id=c --network=none ${s}`),
    fc.tuple(fc.option(from, { nil: undefined }), path).map(([f, p]) => `RUN --mount=type=bind,${f ? `from=${f},` : ""}target=${p} ls`),
    script.map((s) => `RUN --mount=type=secret,id=tok,env=TOKEN ${s}`),
    script.map((s) => `RUN <<EOF\n${s.split(" && ").join("\n")}\nEOF`),
    fc.constant("RUN <<EOF\n#!/usr/bin/env python3\nprint(`x`, '${y}')\nEOF"),
    fc.tuple(fc.option(from, { nil: undefined }), fc.array(tightWord, { minLength: 1, maxLength: 2 }), path).map(([f, srcs, d]) => `COPY ${f ? `--from=${f} ` : ""}${srcs.join(" ")} ${d}/`),
    fc.tuple(tightWord, path, fc.constantFrom("", "--chown=1000:1000 ", "--chmod=755 ", "--link ", "--chmod=0644 --chown=app ")).map(([s, d, flag]) => `COPY ${flag}${s} ${d}`),
    fc.tuple(path, fc.constantFrom("line $A", "price \\$5 `x` ${B}", "C:\\dir")).map(([d, body]) => `COPY <<EOF ${d}\n${body}\nEOF`),
    fc.tuple(path).map(([d]) => `ADD https://example.com/a.tar.gz ${d}`),
    tightWord.map((w) => `WORKDIR /${w}`),
    fc.constantFrom("USER app", "USER 1000:1000", "USER 1000", "USER $A"),
    fc.array(fc.constantFrom("80", "443/tcp", "53/udp", "$port", "8000-8010", "9090/TCP"), { minLength: 1, maxLength: 3 }).map((p) => `EXPOSE ${p.join(" ")}`),
    fc.array(path, { minLength: 1, maxLength: 2 }).map((p) => `VOLUME ${JSON.stringify(p)}`),
    fc.array(plain, { minLength: 1, maxLength: 3 }).map((a) => `CMD ${JSON.stringify(a)}`),
    script.map((s) => `CMD ${s}`),
    fc.array(plain, { minLength: 1, maxLength: 2 }).map((a) => `ENTRYPOINT ${JSON.stringify(a)}`),
    fc.constantFrom("HEALTHCHECK NONE", 'HEALTHCHECK --interval=30s --retries=3 CMD ["true"]', "HEALTHCHECK --timeout=1m30s --start-period=1h1s CMD curl -f http://localhost/"),
    fc.constantFrom("STOPSIGNAL SIGINT", "STOPSIGNAL 9", 'SHELL ["/bin/bash", "-c"]', "ONBUILD RUN make", "MAINTAINER someone"),
  );
  return fc.tuple(fc.option(comment, { nil: undefined, freq: 4 }), bare).map(([c, i]) => (c ? `${c}\n${i}` : i));
}

const dockerfile = fc
  .tuple(
    fc.array(fc.tuple(name, fc.option(fc.oneof(plain, fc.constantFrom("8080", "true", "false", "1.20", "$A-x")), { nil: undefined })), { maxLength: 4 }),
    fc.array(fc.tuple(fc.option(stageName, { nil: undefined }), fc.option(fc.constantFrom("linux/amd64", "$BUILDPLATFORM"), { nil: undefined, freq: 4 })), { minLength: 1, maxLength: 3 }),
    fc.boolean(),
  )
  .chain(([globals, stageSpecs, backtick]) => {
    const names: string[] = [];
    const stages: fc.Arbitrary<string>[] = [];
    stageSpecs.forEach(([sn, platform], i) => {
      const own = sn && !names.some((n) => n.toLowerCase() === sn.toLowerCase()) ? sn : undefined;
      const visible = [...names];
      const base = fc.oneof(fc.constantFrom("debian:12", "alpine:3.20", "scratch", "golang:${A}", "$B"), visible.length ? fc.constantFrom(...visible) : fc.constant("busybox"));
      stages.push(
        fc.tuple(base, fc.array(instruction(visible, i), { minLength: 1, maxLength: 6 })).map(([b, ins]) =>
          [`FROM ${platform ? `--platform=${platform} ` : ""}${b}${own ? ` AS ${own}` : ""}`, ...ins].join("\n"),
        ),
      );
      if (own) names.push(own);
    });
    return fc.tuple(...stages).map((s) => {
      const text = `${[...globals.map(([n, d]) => (d === undefined ? `ARG ${n}` : `ARG ${n}=${d}`)), ...s].join("\n")}\n`;
      // With `# escape=\``, a backslash is an ordinary character and lines continue with a backtick.
      return backtick ? `# escape=\`\n${text.replaceAll("ESC\n", "`\n")}` : text.replaceAll("ESC\n", "\\\n");
    });
  });

const ignore = fc.option(fc.constantFrom(["node_modules", ".git"], ["*.log", "!keep.log"]), { nil: undefined });

describe("generated Dockerfiles", () => {
  const sample = new Map<string, string>();

  test("the module gives every stage the importer's digest; generation is deterministic; refusals match the importer's", () => {
    let checked = 0;
    fc.assert(
      fc.property(dockerfile, ignore, (text, ig) => {
        const opts = { file: "Dockerfile", ...(ig ? { ignore: ig } : {}) };
        let importError: unknown;
        try {
          importDockerfile(text, opts);
        } catch (e) {
          importError = e;
        }
        if (importError !== undefined) {
          expect(() => generateImageModule(text, opts)).toThrow(expect.objectContaining({ code: (importError as { code: string }).code }));
          return;
        }
        const g = generateImageModule(text, opts);
        expect(generateImageModule(text, opts).source).toBe(g.source);
        const { mismatches } = digestMismatches(g);
        expect(mismatches, `${text}\n--- module ---\n${g.source}`).toEqual([]);
        checked++;
        if (sample.size < 120) sample.set(`case${sample.size}`, g.source);
      }),
      { numRuns: 400, seed: 20261127 },
    );
    // Most generated files are valid Dockerfiles: the property is not vacuous.
    expect(checked).toBeGreaterThan(300);
  });

  test("a sample of the modules type-checks", async () => {
    expect(sample.size).toBeGreaterThan(100);
    expect(await typeErrors(sample)).toEqual([]);
  });
});
