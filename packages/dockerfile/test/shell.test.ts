// The shell-word lexer (BuildKit's shell/lex.go semantics) and the template conversions.
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { expandTemplate, parseTemplate } from "@strata/graph";
import { expandWord, expandWords, fromTemplate, parseDockerfile, ShellError, toTemplate, toTemplates } from "../src/index.ts";
import { formatTemplate } from "../src/shell/format-template.ts";

const env = { A: "a b", E: "", X: "x", PATH: "/usr/bin:/bin", V: "foo.tar.gz", S: "a*b" };

describe("expandWord", () => {
  test.each([
    ["plain", "plain"],
    ["$X", "x"],
    ["${X}", "x"],
    ["$Xy", ""],
    ["${X}y", "xy"],
    ["$", "$"],
    ["$-", ""],
    ["$1", ""],
    ["a$", "a$"],
    ["'$X'", "$X"],
    ['"$X"', "x"],
    ['"\\$X"', "$X"],
    ["\\$X", "$X"],
    ['"a\\b"', "a\\b"],
    ['"a\\"b"', 'a"b'],
    ['"a\\\\b"', "a\\b"],
    ["a\\ b", "a b"],
    ["a\\", "a"],
    ["'it''s'", "its"],
    ['"${A}"', "a b"],
    ["${NOPE:-d}", "d"],
    ["${E:-d}", "d"],
    ["${E-d}", ""],
    ["${NOPE-d}", "d"],
    ["${X:+alt}", "alt"],
    ["${E:+alt}", ""],
    ["${E+alt}", "alt"],
    ["${NOPE+alt}", ""],
    ["${NOPE:-${X}y}", "xy"],
    ['${NOPE:-"q r"}', "q r"],
    ["${NOPE:-a\\}b}", "a}b"],
    ["${X:?m}", "x"],
    ["${V#*.}", "tar.gz"],
    ["${V##*.}", "gz"],
    ["${V%.*}", "foo.tar"],
    ["${V%%.*}", "foo"],
    ["${V#foo}", ".tar.gz"],
    ["${V%gz}", "foo.tar."],
    ["${V/o/0}", "f0o.tar.gz"],
    ["${V//o/0}", "f00.tar.gz"],
    ["${V//./-}", "foo-tar-gz"],
    ["${S#a\\*}", "b"],
    ["${S/\\*/+}", "a+b"],
    ["${PATH//:/ }", "/usr/bin /bin"],
    ["${V/#/x}", "foo.tar.gz"],
    ["${NOPE/a/b}", ""],
    ["${V//[.]/x}", "foo.tar.gz"],
  ])("%s → %s", (word, expected) => {
    expect(expandWord(word, env)).toBe(expected);
  });

  test.each([
    // BuildKit reads EOF as the modifier character here.
    ["${X", "unsupported modifier"],
    ["${X:-a", "missing '}'"],
    ["${}", "bad substitution"],
    ["${:x}", "bad substitution"],
    ["${X:#a}", "unsupported modifier (:#)"],
    ["${X:x}", "unsupported modifier (:x)"],
    ["${X/a}", "missing '/'"],
    ["'open", "single-quote"],
    ['"open', "double-quote"],
    ["${NOPE?}", "NOPE: is not allowed to be unset"],
    ["${E:?}", "E: is not allowed to be empty"],
    ["${NOPE:?custom message}", "NOPE: custom message"],
    ["${X#\\a}", "invalid escape"],
  ])("%s is an error (%s)", (word, message) => {
    expect(() => expandWord(word, env)).toThrow(ShellError);
    expect(() => expandWord(word, env)).toThrow(message);
  });

  test("a lookup function is an environment; undefined means unset", () => {
    expect(expandWord("${A-unset}${B-unset}", (n) => (n === "A" ? "" : undefined))).toBe("unset");
  });

  test("the backtick escape token", () => {
    const o = { escapeToken: "`" };
    expect(expandWord("a`$X", env, o)).toBe("a$X");
    expect(expandWord("c:\\dir\\$X", env, o)).toBe("c:\\dir\\x");
    expect(expandWord('"q`"r"', env, o)).toBe('q"r');
    expect(expandWord("a` b", env, o)).toBe("a b");
  });
});

describe("expandWords (split after expansion)", () => {
  test.each([
    ["a b  c", ["a", "b", "c"]],
    ['"a b" c', ["a b", "c"]],
    ["$A", ["a", "b"]],
    ['"$A"', ["a b"]],
    ["x$A", ["xa", "b"]],
    ["a\\ b", ["a b"]],
    ["''", []],
    ["", []],
    // BuildKit's shared words buffer: text before a ${X<modifier>…} in the same word is dropped.
    ["pre${NOPE:-d}post", ["dpost"]],
  ])("%s", (word, expected) => {
    expect(expandWords(word, env)).toEqual(expected);
  });
});

describe("values BuildKit produced (docker 20.10 build, inspected config)", () => {
  // FROM busybox
  // ENV A="a b"  B='c d' C=e\ f D=$A E="${A:-x}y" F=${NOPE:-"q r"} G=\$A H="\$A" I='$A'
  // ENV legacy   "quoted  value"  x
  // LABEL l1="1 2" l2=$A
  // → Env A=a b, B=c d, C=e f, D=, E=xy, F=q r, G=$A, H=$A, I=$A, legacy=quoted  value  x;
  //   Labels l1=1 2, l2=a b
  test("ENV / LABEL values match", () => {
    const src = [
      "FROM busybox",
      `ENV A="a b"  B='c d' C=e\\ f D=$A E="\${A:-x}y" F=\${NOPE:-"q r"} G=\\$A H="\\$A" I='$A'`,
      'ENV legacy   "quoted  value"  x',
      'LABEL l1="1 2" l2=$A',
    ].join("\n");
    const { ast, diagnostics } = parseDockerfile(src);
    expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const stage = ast.stages[0]!;
    const envs: Record<string, string> = {};
    const labels: Record<string, string> = {};
    for (const i of stage.instructions) {
      if (i.kind !== "ENV" && i.kind !== "LABEL") continue;
      // BuildKit expands each instruction with the environment before it.
      const before = { ...envs };
      for (const p of i.pairs) {
        const v = expandWord(p.value, before);
        if (i.kind === "ENV") envs[expandWord(p.key, before)] = v;
        else labels[expandWord(p.key, before)] = v;
      }
    }
    expect(envs).toEqual({ A: "a b", B: "c d", C: "e f", D: "", E: "xy", F: "q r", G: "$A", H: "$A", I: "$A", legacy: "quoted  value  x" });
    expect(labels).toEqual({ l1: "1 2", l2: "a b" });
  });
});

describe("more values docker 20.10 produced", () => {
  // ENV X=x E=
  // ENV T1="a\b" T2='it''s' T3=$1 T4=${X:+alt} T5=a$ T6=${E:-d} T8="q\"r" T9=a\\b T10="${X}\$X" T11=\"lit\" T12=$X- T13=${X}y$Xy
  test.each([
    ['"a\\b"', "a\\b"],
    ["'it''s'", "its"],
    ["$1", ""],
    ["${X:+alt}", "alt"],
    ["a$", "a$"],
    ["${E:-d}", "d"],
    ['"q\\"r"', 'q"r'],
    ["a\\\\b", "a\\b"],
    ['"${X}\\$X"', "x$X"],
    ['\\"lit\\"', '"lit"'],
    ["$X-", "x-"],
    ["${X}y$Xy", "xy"],
  ])("%s → %s", (word, expected) => {
    expect(expandWord(word, { X: "x", E: "" })).toBe(expected);
    expect(expandTemplate(toTemplate(word), (n) => ({ X: "x", E: "" })[n])).toBe(expected);
  });
});

describe("toTemplate", () => {
  test.each([
    ["plain", "plain"],
    ["$X", "$X"],
    ["${X}y", "${X}y"],
    ["${X}-y", "$X-y"],
    ["'$X'", "\\$X"],
    ['"a \\"b\\" $X"', 'a "b" $X'],
    ["a\\\\b", "a\\\\b"],
    ["${NOPE:-${X}y}", "${NOPE:-${X}y}"],
    ["${X:-a\\}b}", "${X:-a\\}b}"],
    ["${V##*.}", "${V##*.}"],
    ["${V%.*}", "${V%.*}"],
    ["${S#a\\*}", "${S#a\\\\*}"],
    ["${V//./-}", "${V//./-}"],
    ["${V//\\//-}", "${V//\\//-}"],
    ["$1$@", ""],
  ])("%s → %s", (word, expected) => {
    expect(toTemplate(word)).toBe(expected);
  });

  test("unrepresentable constructs are refused, not guessed", () => {
    expect(() => toTemplate("${V///x}")).toThrow(/cannot be written/);
    expect(() => toTemplate("$é")).toThrow(/cannot be written/);
  });

  test("toTemplates splits at literal whitespace", () => {
    expect(toTemplates('a "b c" ${X}d $E')).toEqual(["a", "b c", "${X}d", "$E"]);
    expect(toTemplates("pre${NOPE:-d}post")).toEqual(["${NOPE:-d}post"]);
  });

  test("formatTemplate equals the graph's canonical form on what the graph can parse", () => {
    for (const t of ["$A", "${A}b", "a\\$b", "${A:-x\\}y}", "${A//a\\/b/c}", "${A#\\\\*}"]) {
      expect(formatTemplate(parseTemplate(t))).toBe(t);
    }
  });
});

describe("fromTemplate", () => {
  test.each([
    ["plain", "plain"],
    ["a b", '"a b"'],
    ["$X", "$X"],
    ["${X}y", "${X}y"],
    ["\\$X", "\\$X"],
    ["it's", "\"it's\""],
    ['say "hi"', '"say \\"hi\\""'],
    ["${X:-a b}", "${X:-a\\ b}"],
    ["${V##*.}", "${V##*.}"],
    ["${S#a\\\\*}", "${S#a\\*}"],
    ["", '""'],
  ])("%s → %s", (template, word) => {
    expect(fromTemplate(template)).toBe(word);
    expect(toTemplate(fromTemplate(template))).toBe(formatTemplate(parseTemplate(template)));
  });

  test("backtick escape token", () => {
    expect(fromTemplate("a\\$b`", { escapeToken: "`" })).toBe("a`$b``");
    expect(toTemplate("a`$b``", { escapeToken: "`" })).toBe("a\\$b`");
  });
});

// ---- property tests -------------------------------------------------------------------
const NAMES = ["A", "B", "C", "AB"];
const name = fc.constantFrom(...NAMES);
const lit = fc.stringMatching(/^[a-z0-9./_-]{1,4}$/);
const patText = fc.oneof(lit, fc.constantFrom("*", "?", "\\*", "\\?", "\\\\", "\\}", "."));
const pattern = fc.array(patText, { minLength: 0, maxLength: 3 }).map((a) => a.join(""));
const litPattern = fc.tuple(pattern, lit, pattern).map(([a, b, c]) => a + b + c);

function wordArb(esc: string): fc.Arbitrary<string> {
  const e = (c: string) => esc + c;
  const inner: fc.Arbitrary<string> = fc.letrec((tie) => ({
    piece: fc.oneof(
      { weight: 4, arbitrary: lit },
      { weight: 1, arbitrary: fc.constantFrom(" ", "  ", e("$"), e(" "), e(esc), e('"'), "$", "$1", e("}")) },
      { weight: 1, arbitrary: fc.stringMatching(/^[a-z $"]{0,4}$/).map((s) => `'${s}'`) },
      { weight: 1, arbitrary: fc.array(fc.oneof(lit, fc.constant(" "), fc.constant(e('"')), name.map((n) => `$${n}`)), { maxLength: 3 }).map((a) => `"${a.join("")}"`) },
      { weight: 3, arbitrary: name.map((n) => `$${n}`) },
      { weight: 2, arbitrary: name.map((n) => `\${${n}}`) },
      {
        weight: 3,
        arbitrary: fc
          .tuple(name, fc.constantFrom(":-", "-", ":+", "+"), fc.array(tie("piece") as fc.Arbitrary<string>, { maxLength: 2 }))
          .map(([n, m, w]) => `\${${n}${m}${w.join("").replace(/}/g, "")}}`),
      },
      { weight: 2, arbitrary: fc.tuple(name, fc.constantFrom("#", "##", "%", "%%"), pattern).map(([n, m, p]) => `\${${n}${m}${esc === "\\" ? p : p.replace(/\\[}]/g, "")}}`) },
      { weight: 2, arbitrary: fc.tuple(name, fc.constantFrom("/", "//"), litPattern, lit).map(([n, m, p, r]) => `\${${n}${m}${esc === "\\" ? p : p.replace(/\\[}]/g, "")}/${r}}`) },
    ),
  })).piece as fc.Arbitrary<string>;
  return fc.array(inner, { minLength: 0, maxLength: 6 }).map((a) => a.join(""));
}

const envArb = fc.dictionary(name, fc.stringMatching(/^[a-z .*?]{0,5}$/), { maxKeys: 4 });

function outcome(f: () => string): string {
  try {
    return `ok:${f()}`;
  } catch (e) {
    return e instanceof Error && /TemplateError|ShellError/.test(e.name) ? "error" : `THROW ${String(e)}`;
  }
}

describe("invariant: expandTemplate(toTemplate(W), E) === expandWord(W, E)", () => {
  for (const esc of ["\\", "`"]) {
    test(`escape token ${esc}`, () => {
      fc.assert(
        fc.property(wordArb(esc), envArb, (word, e) => {
          let t: string;
          try {
            t = toTemplate(word, { escapeToken: esc });
          } catch (err) {
            expect((err as Error).name).toBe("ShellError");
            // Refused as unrepresentable, or rejected by BuildKit too.
            if ((err as ShellError).code === "DF_TEMPLATE_UNREPRESENTABLE") return;
            expect(outcome(() => expandWord(word, e, { escapeToken: esc }))).toBe("error");
            return;
          }
          const lookup = (n: string) => (Object.hasOwn(e, n) ? e[n] : undefined);
          expect(outcome(() => expandTemplate(t, lookup))).toBe(outcome(() => expandWord(word, e, { escapeToken: esc })));
        }),
        { numRuns: 3000 },
      );
    });
  }

  test("toTemplates agrees with expandWords when values hold no whitespace", () => {
    fc.assert(
      fc.property(wordArb("\\"), fc.dictionary(name, fc.stringMatching(/^[a-z.]{1,4}$/), { maxKeys: 4 }), (word, e) => {
        // A reference's value is re-split by BuildKit; keep whitespace out of ${…} words.
        fc.pre(!/\$\{[^}]*\s/.test(word));
        let ts: string[];
        try {
          ts = toTemplates(word);
        } catch {
          return;
        }
        const lookup = (n: string) => (Object.hasOwn(e, n) ? e[n] : undefined);
        const viaTemplates = outcome(() => JSON.stringify(ts.map((t) => expandTemplate(t, lookup)).filter((s) => s !== "")));
        expect(viaTemplates).toBe(outcome(() => JSON.stringify(expandWords(word, e))));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("invariant: toTemplate(fromTemplate(T)) === T for canonical templates", () => {
  const segText = fc.stringMatching(/^[a-z0-9 ./'"$\\-]{1,5}$/);
  const tmpl = fc
    .array(fc.oneof(segText.map((s) => s.replace(/[\\$]/g, (c) => `\\${c}`)), name.map((n) => `\${${n}}`), fc.tuple(name, segText).map(([n, w]) => `\${${n}:-${w.replace(/[\\$}]/g, (c) => `\\${c}`)}}`)), { maxLength: 5 })
    .map((a) => formatTemplate(parseTemplate(a.join(""))));
  for (const esc of ["\\", "`"]) {
    test(`escape token ${esc}`, () => {
      fc.assert(
        fc.property(tmpl, (t) => {
          expect(toTemplate(fromTemplate(t, { escapeToken: esc }), { escapeToken: esc })).toBe(t);
        }),
        { numRuns: 2000 },
      );
    });
  }
});
