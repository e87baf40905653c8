import { describe, expect, test } from "vitest";
import { expandTemplate, templateRefs, templateFromUser, literalTemplate, templateLiteralValue, TemplateError } from "../src/index.ts";

const env: Record<string, string> = { A: "alpha", EMPTY: "", PATH: "/usr/bin:/bin", FILE: "archive.tar.gz", V: "1.2.3" };
const lookup = (n: string) => env[n];

describe("expandTemplate", () => {
  test.each([
    ["plain text", "plain text"],
    ["$A", "alpha"],
    ["${A}x", "alphax"],
    ["$Ax", ""],
    ["pre-$A-post", "pre-alpha-post"],
    ["${MISSING}", ""],
    ["${A:-d}", "alpha"],
    ["${EMPTY:-d}", "d"],
    ["${MISSING:-d}", "d"],
    ["${EMPTY-d}", ""],
    ["${MISSING-d}", "d"],
    ["${A:+set}", "set"],
    ["${EMPTY:+set}", ""],
    ["${EMPTY+set}", "set"],
    ["${MISSING+set}", ""],
    ["${FILE#*.}", "tar.gz"],
    ["${FILE##*.}", "gz"],
    ["${FILE%.*}", "archive.tar"],
    ["${FILE%%.*}", "archive"],
    ["${V/./-}", "1-2.3"],
    ["${V//./-}", "1-2-3"],
    ["${PATH//\\//_}", "_usr_bin:_bin"],
    ["${MISSING:-$A}", "alpha"],
    ["${MISSING:-${A:+nested}}", "nested"],
    ["\\$A", "$A"],
    ["a\\\\b", "a\\b"],
    ["C:\\path", "C:\\path"],
    ["$", "$"],
    ["$1", "$1"],
    ["cost: $ 5", "cost: $ 5"],
  ])("%s → %s", (t, want) => {
    expect(expandTemplate(t, lookup)).toBe(want);
  });

  test("required values", () => {
    expect(() => expandTemplate("${MISSING:?set MISSING}", lookup)).toThrow(TemplateError);
    expect(() => expandTemplate("${EMPTY:?x}", lookup)).toThrow(/EMPTY: x/);
    expect(expandTemplate("${EMPTY?x}", lookup)).toBe("");
  });

  test("malformed references are coded errors", () => {
    expect(() => expandTemplate("${A", lookup)).toThrow(expect.objectContaining({ code: "STRATA_TEMPLATE_UNCLOSED" }));
    expect(() => expandTemplate("${}", lookup)).toThrow(expect.objectContaining({ code: "STRATA_TEMPLATE_BAD_REF" }));
    expect(() => expandTemplate("${A!}", lookup)).toThrow(expect.objectContaining({ code: "STRATA_TEMPLATE_BAD_REF" }));
  });
});

describe("template helpers", () => {
  test("refs are found in nested words, in first-use order", () => {
    expect(templateRefs("${A:-$B}/$C/${A}")).toEqual(["A", "B", "C"]);
  });
  test("literal templates expand to themselves", () => {
    for (const s of ["a$b", "x\\$y", "\\", "$", "${A}", "plain"]) {
      expect(expandTemplate(literalTemplate(s), lookup)).toBe(s);
      expect(templateLiteralValue(literalTemplate(s))).toBe(s);
    }
    expect(templateLiteralValue("$A")).toBeUndefined();
  });
  test("user strings: one canonical spelling per meaning", () => {
    expect(templateFromUser("${A}/x")).toBe("$A/x");
    expect(templateFromUser("$A")).toBe(templateFromUser("${A}"));
    expect(templateFromUser("${A}b")).toBe("${A}b");
    expect(templateFromUser("C:\\dir")).toBe("C:\\\\dir");
    expect(templateFromUser("price \\$5")).toBe("price \\$5");
    expect(expandTemplate(templateFromUser("C:\\dir \\$ $A"), lookup)).toBe("C:\\dir $ alpha");
    expect(templateFromUser("${A:-x}")).toBe("${A:-x}");
  });
});
