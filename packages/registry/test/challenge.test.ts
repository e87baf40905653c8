import { describe, expect, it } from "vitest";
import { parseChallenges, pickChallenge } from "../src/index.ts";

describe("WWW-Authenticate parsing", () => {
  it("parses a Docker Hub bearer challenge", () => {
    expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"')).toEqual([
      { scheme: "bearer", params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/busybox:pull" } },
    ]);
  });
  it("parses Basic with a realm and is case-insensitive in names", () => {
    expect(parseChallenges('BASIC Realm="Registry Realm"')).toEqual([{ scheme: "basic", params: { realm: "Registry Realm" } }]);
  });
  it("splits several challenges in one header and picks Bearer", () => {
    const cs = parseChallenges('Basic realm="r1", Bearer realm="https://a/token", service="svc", error="insufficient_scope"');
    expect(cs.map((c) => c.scheme)).toEqual(["basic", "bearer"]);
    expect(cs[1]!.params).toEqual({ realm: "https://a/token", service: "svc", error: "insufficient_scope" });
    expect(pickChallenge(cs)?.scheme).toBe("bearer");
  });
  it("accepts several header lines, unquoted tokens, spaces around = and escapes", () => {
    const cs = parseChallenges(["Basic realm=simple", 'Bearer realm = "https://x/t" , scope="repository:a:pull repository:b:pull", note="say \\"hi\\", ok"']);
    expect(cs).toEqual([
      { scheme: "basic", params: { realm: "simple" } },
      { scheme: "bearer", params: { realm: "https://x/t", scope: "repository:a:pull repository:b:pull", note: 'say "hi", ok' } },
    ]);
  });
  it("keeps a scheme without parameters and survives junk", () => {
    expect(parseChallenges("Negotiate")).toEqual([{ scheme: "negotiate", params: {} }]);
    expect(parseChallenges(undefined)).toEqual([]);
    expect(parseChallenges('Bearer realm="unterminated').at(0)?.params.realm).toBe("unterminated");
    expect(pickChallenge(parseChallenges("Negotiate"))).toBeUndefined();
  });
});
