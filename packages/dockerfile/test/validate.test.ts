// What the build would refuse is an error of the parser (so `strata parse` reports it too),
// with the position of the instruction and the same code the build gives.
import { describe, expect, test } from "vitest";
import { importDockerfile, parseDockerfile } from "../src/index.ts";

const errors = (text: string) => parseDockerfile(text).diagnostics.filter((d) => d.severity === "error").map((d) => ({ code: d.code, line: d.span.start.line }));

describe("validation errors", () => {
  test.each([
    ["EXPOSE abc", "STRATA_BAD_PORT"],
    ["EXPOSE 99999", "STRATA_BAD_PORT"],
    ["EXPOSE 70000/tcp", "STRATA_BAD_PORT"],
    ["EXPOSE 9000-8000", "STRATA_BAD_PORT"],
    ["EXPOSE 80/xyz", "STRATA_BAD_PORT"],
    ["STOPSIGNAL FOO", "STRATA_BAD_SIGNAL"],
    ['ARG "a b"=1', "DF_BAD_ARG_NAME"],
    ["COPY --from=a /x /y", "DF_STAGE_CYCLE"],
    ["RUN --mount=from=a,target=/m true", "DF_STAGE_CYCLE"],
  ])("%s → %s at its line, in parse and in the import", (line, code) => {
    const text = `FROM scratch AS a\n${line}\n`;
    expect(errors(text)).toEqual([{ code, line: 2 }]);
    expect(() => importDockerfile(text)).toThrow(expect.objectContaining({ code, locations: [expect.objectContaining({ line: 2 })] }));
  });

  test("FROM --platform with a literal that is no platform", () => {
    expect(errors("FROM --platform=bogus scratch\n")).toEqual([{ code: "STRATA_BAD_PLATFORM", line: 1 }]);
    expect(errors("FROM --platform=linux/arm64 scratch\nFROM --platform=$BUILDPLATFORM scratch\n")).toEqual([]);
  });

  test("duplicate stage names are an error even with the build checks skipped", () => {
    const text = "# check=skip=all\nFROM scratch AS a\nFROM scratch AS A\n";
    expect(errors(text)).toEqual([{ code: "DF_DUPLICATE_STAGE_NAME", line: 3 }]);
  });

  test("a cycle through two stages, and a reference to a later stage", () => {
    expect(errors("FROM scratch AS b\nCOPY --from=c /x /y\nFROM scratch AS c\nCOPY --from=b /x /y\n")).toEqual([{ code: "DF_STAGE_CYCLE", line: 2 }]);
    expect(errors("FROM scratch AS b\nCOPY --from=c /x /y\nFROM scratch AS c\n")).toEqual([{ code: "DF_STAGE_ORDER", line: 2 }]);
    expect(errors("FROM scratch AS b\nFROM scratch\nCOPY --from=b /x /y\nCOPY --from=0 /x /y\nCOPY --from=alpine:3 /x /y\n")).toEqual([]);
  });

  test("valid values pass; values from variables wait for the build", () => {
    expect(errors("FROM scratch\nARG P=99999\nEXPOSE 80 53/udp 8000-8010 $P\nSTOPSIGNAL SIGTERM\nSTOPSIGNAL 9\nSTOPSIGNAL $S\n")).toEqual([]);
  });

  test("a chain of doubling ARGs is reported at the first value over the bound, fast", () => {
    const letters = "ABCDEFGHIJKLMNOPQRSTUVWXY";
    const lines = ["ARG A=xxxxxxxx"];
    for (let i = 1; i < letters.length; i++) lines.push(`ARG ${letters[i]}=$${letters[i - 1]}$${letters[i - 1]}`);
    const started = Date.now();
    // Before FROM (global args) and inside a stage.
    expect(errors(`${lines.join("\n")}\nFROM scratch\n`)).toEqual([{ code: "STRATA_WORD_TOO_LONG", line: 19 }]);
    expect(errors(`FROM scratch\n${lines.join("\n")}\n`)).toEqual([{ code: "STRATA_WORD_TOO_LONG", line: 20 }]);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
