// The parser's public API beyond the golden files: typed fields, spans, comments, options.
import { describe, expect, test } from "vitest";
import { dumpAst, goQuote, heredocText, parseDockerfile, toGraphDiagnostic, toJson } from "../src/index.ts";

const ok = (src: string | Uint8Array) => {
  const r = parseDockerfile(src);
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return r.ast;
};

describe("typed AST", () => {
  test("stages, global ARGs and stage names", () => {
    const ast = ok("ARG V=1\nARG W\nFROM a:$V AS Build\nRUN x\nFROM build\nCOPY --from=Build /a /b\n");
    expect(ast.globalArgs.map((a) => a.args)).toEqual([[{ name: "V", default: "1" }], [{ name: "W" }]]);
    expect(ast.stages.map((s) => [s.index, s.name, s.from.image, s.instructions.length])).toEqual([
      [0, "build", "a:$V", 1],
      [1, undefined, "build", 1],
    ]);
    expect(ast.stages[0]!.from.stageName).toBe("Build");
    expect(ast.instructions.map((i) => i.kind)).toEqual(["ARG", "ARG", "FROM", "RUN", "FROM", "COPY"]);
  });

  test("RUN: forms, mounts, network, security, heredocs", () => {
    const ast = ok(
      "FROM a\nRUN --mount=type=cache,target=/c,id=x --mount=type=secret,id=s,env=TOKEN --network=none --security=insecure make\nRUN [\"a\", \"b c\"]\nRUN <<-EOF sh\n\techo $HOME\n\tEOF\n",
    );
    const [r1, r2, r3] = ast.stages[0]!.instructions;
    if (r1?.kind !== "RUN" || r2?.kind !== "RUN" || r3?.kind !== "RUN") throw new Error("expected RUNs");
    expect(r1.command).toEqual({ form: "shell", script: "make" });
    expect(r1.mounts.map((m) => [m.type, m.target, m.id, m.readOnly, m.env])).toEqual([
      ["cache", "/c", "x", false, undefined],
      ["secret", undefined, "s", true, "TOKEN"],
    ]);
    expect([r1.network, r1.security]).toEqual(["none", "insecure"]);
    expect(r2.command).toEqual({ form: "exec", argv: ["a", "b c"] });
    expect(r3.command).toEqual({ form: "shell", script: "<<-EOF sh" });
    expect(r3.heredocs).toHaveLength(1);
    expect(r3.heredocs[0]).toMatchObject({ name: "EOF", chomp: true, expand: true, content: "\techo $HOME\n" });
    expect(heredocText(r3.heredocs[0]!)).toBe("echo $HOME\n");
    expect(r3.span).toEqual({ start: { line: 4, column: 1 }, end: { line: 6, column: 4 } });
  });

  test("COPY / ADD flags and heredoc sources", () => {
    const ast = ok("FROM a\nCOPY --from=b --chown=1:2 --chmod=600 --link --parents --exclude=x --exclude=y s1 <<EOF /d/\nbody\nEOF\nADD --checksum=sha256:00 --keep-git-dir --unpack=false u /d\n");
    const [c, a] = ast.stages[0]!.instructions;
    expect(c).toMatchObject({ kind: "COPY", from: "b", chown: "1:2", chmod: "600", link: true, parents: true, exclude: ["x", "y"], dest: "/d/" });
    if (c?.kind !== "COPY") throw new Error();
    expect(c.sources[0]).toEqual({ type: "path", path: "s1" });
    expect(c.sources[1]).toMatchObject({ type: "heredoc", heredoc: { name: "EOF", content: "body\n" } });
    expect(a).toMatchObject({ kind: "ADD", checksum: "sha256:00", keepGitDir: true, unpack: false, link: false });
  });

  test("ENV / LABEL keep raw words; legacy form flagged", () => {
    const ast = ok('FROM a\nENV A="x y" B=$A\nENV C d e\nLABEL "k"=v\n');
    const [e1, e2, l] = ast.stages[0]!.instructions;
    expect(e1).toMatchObject({ kind: "ENV", legacy: false, pairs: [{ key: "A", value: '"x y"' }, { key: "B", value: "$A" }] });
    expect(e2).toMatchObject({ kind: "ENV", legacy: true, pairs: [{ key: "C", value: "d e" }] });
    expect(l).toMatchObject({ kind: "LABEL", pairs: [{ key: '"k"', value: "v" }] });
  });

  test("HEALTHCHECK durations and retries", () => {
    const ast = ok("FROM a\nHEALTHCHECK --interval=1m30s --timeout=500ms --start-period=2s --start-interval=1s --retries=4 CMD [\"c\"]\n");
    expect(ast.stages[0]!.instructions[0]).toMatchObject({
      kind: "HEALTHCHECK",
      type: "CMD",
      command: { form: "exec", argv: ["c"] },
      interval: { raw: "1m30s", nanoseconds: 90e9 },
      timeout: { nanoseconds: 500e6 },
      startPeriod: { nanoseconds: 2e9 },
      startInterval: { nanoseconds: 1e9 },
      retries: 4,
    });
  });

  test("ONBUILD carries its typed trigger", () => {
    const ast = ok("FROM a\nONBUILD COPY --chown=1 . /app\n");
    expect(ast.stages[0]!.instructions[0]).toMatchObject({ kind: "ONBUILD", expression: "COPY --chown=1 . /app", instruction: { kind: "COPY", chown: "1", dest: "/app" } });
  });

  test("comments attach to the next instruction; raw text and original kept", () => {
    const ast = ok("# one\n# two\nFROM a\nRUN echo \\\n  # inside\n  b\n# tail\n");
    expect(ast.stages[0]!.from.comments.map((c) => c.text)).toEqual(["one", "two"]);
    const run = ast.stages[0]!.instructions[0]!;
    expect(run.raw).toBe("RUN echo \\\n  # inside\n  b");
    expect(run.original).toBe("RUN echo   b");
    expect(ast.trailingComments.map((c) => c.text)).toEqual(["tail"]);
  });

  test("escape directive and syntax", () => {
    const ast = ok("# syntax=docker/dockerfile:1\n# escape=`\nFROM a\nRUN a `\n b\n");
    expect(ast.syntax).toBe("docker/dockerfile:1");
    expect(ast.escapeToken).toBe("`");
    expect(dumpAst(ast)).toBe('(from "a")\n(run "a  b")');
  });

  test("bytes input, BOM and CRLF", () => {
    const bytes = new TextEncoder().encode("\ufeffFROM a\r\nRUN b\r\n");
    const ast = ok(bytes);
    expect(dumpAst(ast)).toBe('(from "a")\n(run "b")');
  });
});

describe("diagnostics", () => {
  test("errors carry code, line, column and a hint where useful", () => {
    const r = parseDockerfile("FROM a\nRUN --mnt=x echo\nFOO\n");
    const errs = r.diagnostics.filter((d) => d.severity === "error");
    expect(errs.map((d) => [d.code, d.span.start.line, d.span.start.column])).toEqual([
      ["DF_PARSE_UNKNOWN_FLAG", 2, 5],
      ["DF_PARSE_UNKNOWN_INSTRUCTION", 3, 1],
    ]);
    expect(errs[0]!.message).toBe("unknown flag: mnt (did you mean mount?)");
    expect(toGraphDiagnostic(errs[1]!, "Dockerfile")).toMatchObject({ code: "DF_PARSE_UNKNOWN_INSTRUCTION", locations: [{ file: "Dockerfile", line: 3, column: 1 }] });
  });

  test("build checks, # check=skip and error=true", () => {
    const src = "FROM a as B\nCMD x\nMAINTAINER m\n";
    const rules = (s: string) => parseDockerfile(s).diagnostics.map((d) => d.rule).sort();
    expect(rules(src)).toEqual(["FromAsCasing", "JSONArgsRecommended", "MaintainerDeprecated", "StageNameCasing"]);
    expect(rules(`# check=skip=JSONArgsRecommended,StageNameCasing\n${src}`)).toEqual(["FromAsCasing", "MaintainerDeprecated"]);
    const errs = parseDockerfile(`# check=error=true\n${src}`).diagnostics.filter((d) => d.severity === "error");
    expect(errs).toHaveLength(4);
    expect(parseDockerfile(src, { lint: false }).diagnostics).toEqual([]);
  });

  test("UndefinedVar where the environment is known (scratch)", () => {
    const r = parseDockerfile("FROM scratch\nARG A\nENV B=$A C=$NOPE\n");
    expect(r.diagnostics.filter((d) => d.rule === "UndefinedVar").map((d) => d.message)).toEqual(["Usage of undefined variable '$NOPE'"]);
  });
});

test("toJson is plain data with spans", () => {
  const j = toJson(parseDockerfile("FROM a\nRUN b\n"));
  expect(JSON.parse(JSON.stringify(j))).toEqual(j);
  expect(j.stages[0]!.instructions[0]!.span.start).toEqual({ line: 2, column: 1 });
});

test("goQuote follows strconv.Quote", () => {
  expect(goQuote('a"b\\c')).toBe('"a\\"b\\\\c"');
  expect(goQuote("\x00\x07\x1b\t\n\x7f")).toBe('"\\x00\\a\\x1b\\t\\n\\x7f"');
  expect(goQuote("é🐳\u00a0\u200b\u{e0001}")).toBe('"é🐳\\u00a0\\u200b\\U000e0001"');
});
