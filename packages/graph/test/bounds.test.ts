// Bounds of template expansion and the config values Docker parses (ports, signals).
import { describe, expect, test } from "vitest";
import { checkStopSignal, expandTemplate, foldConfig, limitFromEnv, parsePortSpec, ScopeState, utf8Length } from "../src/index.ts";

describe("the word bound", () => {
  test("a doubling chain of ARGs fails at the first value over the bound, quickly", () => {
    const state = new ScopeState({ maxWordBytes: 4096 });
    state.apply({ arg: "A", default: "xxxxxxxx" });
    const letters = "BCDEFGHIJKLMNOPQRSTUVWXY";
    const started = Date.now();
    let failedAt: string | undefined;
    try {
      for (let i = 0; i < letters.length; i++) {
        const prev = i === 0 ? "A" : letters[i - 1]!;
        failedAt = letters[i];
        state.apply({ arg: letters[i]!, default: `$${prev}$${prev}` });
      }
      failedAt = undefined;
    } catch (e) {
      expect(e).toMatchObject({ code: "STRATA_WORD_TOO_LONG", message: expect.stringContaining(`ARG ${failedAt}`), hint: expect.stringContaining("STRATA_MAX_WORD_BYTES") });
    }
    // 8 · 2^k > 4096 first at k = 10: the 10th doubling (K).
    expect(failedAt).toBe("K");
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test("the default bound is 1 MiB of UTF-8", () => {
    const big = "é".repeat(600 * 1024); // 1.2 MB of UTF-8 in 600 Ki code units
    expect(utf8Length(big)).toBe(1200 * 1024);
    expect(() => expandTemplate("$A", (n) => (n === "A" ? big : undefined))).toThrow(expect.objectContaining({ code: "STRATA_WORD_TOO_LONG" }));
    expect(expandTemplate("$A", (n) => (n === "A" ? "é".repeat(1000) : undefined))).toHaveLength(1000);
  });

  test("${X//p/r} is bounded while it grows, not after", () => {
    const x = "a".repeat(100_000);
    expect(() => expandTemplate("${X//a/$X}", (n) => (n === "X" ? x : undefined), 1 << 20)).toThrow(expect.objectContaining({ code: "STRATA_WORD_TOO_LONG" }));
  });

  test("a required arg is a coded error, not an internal one", () => {
    expect(() => expandTemplate("${B:?nope}", () => undefined)).toThrow(expect.objectContaining({ code: "STRATA_ARG_REQUIRED", hint: expect.stringContaining("--build-arg B") }));
  });

  test("limitFromEnv reads sizes and refuses nonsense", () => {
    expect(limitFromEnv("X", 7, {})).toBe(7);
    expect(limitFromEnv("X", 7, { X: "64k" })).toBe(65536);
    expect(limitFromEnv("X", 7, { X: "2G" })).toBe(2 * 1024 ** 3);
    expect(limitFromEnv("X", 7, { X: "123" })).toBe(123);
    for (const bad of ["0", "-1", "lots", "1.5m"]) expect(() => limitFromEnv("X", 7, { X: bad })).toThrow(expect.objectContaining({ code: "STRATA_USAGE" }));
  });
});

describe("ports and signals", () => {
  test("ports as Docker parses them; ranges expand", () => {
    expect(parsePortSpec("80")).toEqual(["80/tcp"]);
    expect(parsePortSpec("53/UDP")).toEqual(["53/udp"]);
    expect(parsePortSpec("8000-8002/udp")).toEqual(["8000/udp", "8001/udp", "8002/udp"]);
    expect(parsePortSpec("1.2.3.4:81:82")).toEqual(["82/tcp"]);
    for (const bad of ["99999", "70000/tcp", "9000-8000", "0", "abc", "80/xyz", "", "80-"]) {
      expect(() => parsePortSpec(bad), bad).toThrow(expect.objectContaining({ code: "STRATA_BAD_PORT" }));
    }
  });

  test("signals as Docker parses them", () => {
    for (const ok of ["SIGTERM", "term", "SIGRTMIN+3", "SIGRTMAX-1", "9", "64"]) expect(checkStopSignal(ok)).toBe(ok);
    for (const bad of ["FOO", "SIGFOO", "0", "65", "SIGRTMIN+16", ""]) expect(() => checkStopSignal(bad), bad).toThrow(expect.objectContaining({ code: "STRATA_BAD_SIGNAL" }));
  });

  test("a port or signal read from a build arg is checked after expansion, at its step", () => {
    const loc = { file: "Dockerfile", line: 3, column: 1 };
    const image = {
      base: undefined,
      steps: [
        { instruction: "ARG" as const, createdBy: "ARG P", scope: [{ arg: "P" }] },
        { instruction: "EXPOSE" as const, createdBy: "EXPOSE $P", edits: [{ edit: "expose" as const, port: "$P" }], meta: { location: loc } },
      ],
    };
    expect(() => foldConfig(undefined, image as never, { buildArgs: { P: "99999" } })).toThrow(expect.objectContaining({ code: "STRATA_BAD_PORT", locations: [loc] }));
    expect(foldConfig(undefined, image as never, { buildArgs: { P: "8080" } }).config.ExposedPorts).toEqual({ "8080/tcp": {} });
  });
});
