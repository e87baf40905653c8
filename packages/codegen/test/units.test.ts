import fc from "fast-check";
import { templateFromUser } from "@strata/graph";
import { describe, expect, test } from "vitest";
import { shellText } from "../src/continuation.ts";
import { print } from "../src/literals.ts";
import { camelCase, NameTable, nameFromImage } from "../src/names.ts";
import { userText } from "../src/template-text.ts";
import { generateImageModule } from "../src/index.ts";
import { typeErrors } from "./helpers/invariants.ts";
import { evaluateModule } from "./helpers/evaluate.ts";

/** The value a printed literal stands for, as JavaScript reads it. */
const evaluate = (code: string): unknown => new Function(`return ${code};`)();

describe("continuation lines become template-literal line continuations", () => {
  const raw = "RUN set -eux; \\\n\tapt-get update; \\   \n# a comment\n\n\tapt-get install -y curl";
  const script = "set -eux; \tapt-get update; \tapt-get install -y curl";

  test("the literal keeps the line breaks and has exactly the joined value", () => {
    const plain = "RUN set -eux; \\\n\tapt-get update; \\   \n\n\tapt-get install -y curl";
    const s = shellText(script, plain, "\\");
    const code = print(s.expression);
    expect(code).toBe("`set -eux; \\\n\tapt-get update; \\\n\tapt-get install -y curl`");
    expect(evaluate(code)).toBe(script);
    expect(s.innerComments).toEqual([]);
  });

  test("a comment inside the continuation stays where it stood, as a // line between the pieces", () => {
    const s = shellText(script, raw, "\\");
    const code = print(s.expression);
    expect(code).toBe("`set -eux; \\\n\tapt-get update; ` + \n// a comment\n\"\\tapt-get install -y curl\"");
    expect(evaluate(code)).toBe(script);
    expect(s.innerComments).toEqual([]);
  });

  test("backticks, ${ and backslashes in the command are escaped", () => {
    const r = 'RUN echo `date` ${HOME} \\\\n \\\n  done';
    const v = "echo `date` ${HOME} \\\\n   done";
    const code = print(shellText(v, r, "\\").expression);
    expect(code.split("\n")).toHaveLength(2);
    expect(evaluate(code)).toBe(v);
  });

  test("the escape directive's backtick continues lines too", () => {
    const code = print(shellText("dir C:\\ ;     echo done", "RUN dir C:\\ ; `\n    echo done", "`").expression);
    expect(code).toBe("`dir C:\\\\ ; \\\n    echo done`");
    expect(evaluate(code)).toBe("dir C:\\ ;     echo done");
  });

  test("an escaped escape at the end of a line is not a continuation; one-line commands stay strings", () => {
    expect(print(shellText("echo a\\\\", "RUN echo a\\\\", "\\").expression)).toBe('"echo a\\\\\\\\"');
    expect(print(shellText("ls", "RUN ls", "\\").expression)).toBe('"ls"');
  });

  test("text that does not match the instruction falls back to a plain string", () => {
    expect(print(shellText("something else", "RUN a \\\n b", "\\").expression)).toBe('"something else"');
  });
});

describe("templates in their friendliest spelling", () => {
  test("Windows paths lose the doubled backslashes; references and escaped dollars stay", () => {
    expect(userText("C:\\\\app\\\\bin")).toBe("C:\\app\\bin");
    expect(userText("\\\\\\$HOME")).toBe("\\\\\\$HOME");
    expect(userText("cost: \\$5")).toBe("cost: $5");
    expect(userText("${A:-C:\\\\x}")).toBe("${A:-C:\\\\x}");
  });

  test("templateFromUser(userText(t)) === t for any canonical template", () => {
    const piece = fc.oneof(fc.constantFrom("\\", "$", "$A", "${B}", "${C:-x\\}y}", "{", "}", "a", "_", "\\$", "\\\\", "/"), fc.string({ maxLength: 3 }));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (parts) => {
        let t: string;
        try {
          t = templateFromUser(parts.join(""));
        } catch {
          return; // not a template
        }
        expect(templateFromUser(userText(t))).toBe(t);
      }),
      { numRuns: 2000, seed: 7 },
    );
  });
});

describe("names", () => {
  test("stage names become identifiers", () => {
    expect(camelCase("build-env")).toBe("buildEnv");
    expect(camelCase("go.builder_x")).toBe("goBuilder_x");
    expect(camelCase("2nd")).toBe("stage2nd");
    expect(nameFromImage("mcr.microsoft.com/dotnet/sdk:8.0")).toBe("sdk");
    expect(nameFromImage("docker.io/library/node@sha256:abc")).toBe("node");
    expect(nameFromImage("$BASE")).toBeUndefined();
  });

  test("reserved words, core imports and clashes get suffixes", () => {
    const n = new NameTable();
    expect(n.take("build", "Stage")).toBe("build");
    expect(n.take("build", "Stage")).toBe("buildStage");
    expect(n.take("build", "Stage")).toBe("buildStage2");
    expect(n.take("from", "Stage")).toBe("fromStage");
    expect(n.take("class", "Stage")).toBe("classStage");
    expect(n.take("X")).toBe("X");
    expect(n.take("X")).toBe("X2");
  });
});

describe("errors", () => {
  test("a Dockerfile the importer refuses is refused with the importer's code and position", () => {
    expect(() => generateImageModule("RUN echo hi\n", { file: "Dockerfile" })).toThrow(expect.objectContaining({ code: "DF_PARSE_NO_STAGE" }));
    try {
      generateImageModule('FROM alpine\nRUN ["a", 1]\n', { file: "Dockerfile" });
      expect.unreachable();
    } catch (e) {
      expect((e as { code: string }).code).toMatch(/^DF_PARSE_/);
      expect((e as { locations: Array<{ line: number }> }).locations[0]?.line).toBe(2);
    }
  });

  test("an unknown --target names the stages", () => {
    expect(() => generateImageModule("FROM a AS one\nFROM b\n", { target: "two" })).toThrow(expect.objectContaining({ code: "STRATA_UNKNOWN_TARGET", hint: "stages: one, 1" }));
  });
});

describe("the invariant helpers can fail", () => {
  test("typeErrors reports a module that does not type-check", async () => {
    const errors = await typeErrors(new Map([["bad", 'import { from } from "@strata/core";\nexport default from("a").expose("http");\n']]));
    expect(errors.join("\n")).toMatch(/bad\.image\.ts:2: TS2345/);
  });

  test("evaluateModule gives a different digest for a different module", () => {
    const a = evaluateModule('import { from } from "@strata/core";\nexport default from("a").run("x");\n').get("default")!;
    const b = evaluateModule('import { from } from "@strata/core";\nexport default from("a").run("y");\n').get("default")!;
    expect(a.digest).not.toBe(b.digest);
  });
});
