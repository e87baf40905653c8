import { describe, expect, test } from "vitest";
import { narrowScope, ScopeState, type Scope } from "../src/index.ts";

describe("narrowScope", () => {
  const scope: Scope = [
    { arg: "A", default: "1" },
    { arg: "UNUSED", default: "u" },
    { env: "B", value: "$A-b" },
    { workdir: "/app" },
    { arg: "C", default: "${B}c" },
    { env: "D", value: "d" },
  ];
  test("keeps what the templates read, transitively, in order", () => {
    expect(narrowScope(scope, ["$C"])).toEqual([{ arg: "A", default: "1" }, { env: "B", value: "$A-b" }, { arg: "C", default: "${B}c" }]);
  });
  test("an unrelated entry is dropped", () => {
    expect(narrowScope(scope, ["$D"])).toEqual([{ env: "D", value: "d" }]);
    expect(narrowScope(scope, ["literal"])).toEqual([]);
  });
  test("the workdir chain is kept only when asked", () => {
    expect(narrowScope(scope, ["x"], { workdir: true })).toEqual([{ workdir: "/app" }]);
  });
  test("a stage boundary is kept only when an arg before it is", () => {
    const s: Scope = [{ arg: "A", default: "1" }, { env: "E", value: "$A" }, { stage: true }, { env: "F", value: "f" }];
    expect(narrowScope(s, ["$F"])).toEqual([{ env: "F", value: "f" }]);
    expect(narrowScope(s, ["$E $A"])).toEqual(s.slice(0, 3));
  });
});

describe("ScopeState", () => {
  test("evaluates in order with build args overriding defaults; ENV wins over ARG", () => {
    const st = new ScopeState({ buildArgs: { A: "given" } }, { env: ["PATH=/bin", "HOME=/root"] });
    st.applyAll([{ arg: "A", default: "1" }, { arg: "B", default: "$A-b" }, { env: "B", value: "env-$B" }, { arg: "C" }]);
    expect(st.lookup("A")).toBe("given");
    expect(st.lookup("B")).toBe("env-given-b");
    expect(st.processEnv().sort()).toEqual(["A=given", "B=env-given-b", "HOME=/root", "PATH=/bin"]);
  });
  test("workdir joins like Docker", () => {
    const st = new ScopeState({}, { workdir: "/base" });
    st.applyAll([{ workdir: "a" }, { workdir: "../b/./c" }]);
    expect(st.cwd).toBe("/base/b/c");
    st.apply({ workdir: "/abs" });
    expect(st.cwd).toBe("/abs");
  });
  test("a stage boundary hides earlier args but keeps expanded env", () => {
    const st = new ScopeState({});
    st.applyAll([{ arg: "V", default: "1" }, { env: "X", value: "$V" }, { stage: true }]);
    expect(st.lookup("V")).toBeUndefined();
    expect(st.lookup("X")).toBe("1");
  });
  test("predefined args need a declaration in a stage, not in FROM scope", () => {
    const ctx = { predefined: { TARGETARCH: "amd64" } };
    expect(new ScopeState(ctx).lookup("TARGETARCH")).toBeUndefined();
    expect(new ScopeState(ctx).applyAll([{ arg: "TARGETARCH" }]).lookup("TARGETARCH")).toBe("amd64");
    expect(new ScopeState(ctx, {}, { implicitPredefined: true }).lookup("TARGETARCH")).toBe("amd64");
  });
  test("PATH is defaulted in a process environment", () => {
    expect(new ScopeState({}).processEnv()).toEqual(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]);
  });
});
