import { describe, expect, test } from "vitest";
import { canonicalJson, sha256Digest, isDigest, parseDigest, digestHex } from "../src/index.ts";

describe("canonicalJson", () => {
  test("sorts keys at every level and drops undefined members", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined, x: "s" }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"x":"s","z":1}]},"b":1}');
  });
  test("insertion order does not matter", () => {
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
  });
  test("arrays keep their order", () => {
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
  });
  test("rejects values without a canonical form", () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(/non-finite/);
    expect(() => canonicalJson(undefined)).toThrow(/undefined/);
  });
  test("escapes strings as JSON does", () => {
    expect(canonicalJson({ k: 'a"b\n\u0001' })).toBe('{"k":"a\\"b\\n\\u0001"}');
  });
});

describe("digests", () => {
  test("sha256 of a known string", () => {
    expect(sha256Digest("abc")).toBe("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
  test("parse and validate", () => {
    const d = sha256Digest("");
    expect(isDigest(d)).toBe(true);
    expect(digestHex(d)).toHaveLength(64);
    expect(() => parseDigest("sha256:XYZ")).toThrow(/not a sha256 digest/);
    expect(isDigest(`sha512:${"a".repeat(64)}`)).toBe(false);
  });
});
