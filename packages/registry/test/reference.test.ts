import { describe, expect, it } from "vitest";
import { apiHost, familiarString, formatReference, normalizeRegistry, parseReference, withTag } from "../src/index.ts";

const D = `sha256:${"ab".repeat(32)}`;

describe("parseReference normalises like distribution/reference", () => {
  const ok: [input: string, full: string, familiar: string][] = [
    ["busybox", "docker.io/library/busybox:latest", "busybox:latest"],
    ["busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"],
    ["library/busybox", "docker.io/library/busybox:latest", "busybox:latest"],
    ["docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"],
    ["index.docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"],
    ["index.docker.io/user/img:tag", "docker.io/user/img:tag", "user/img:tag"],
    ["user/img", "docker.io/user/img:latest", "user/img:latest"],
    ["foo/bar/baz", "docker.io/foo/bar/baz:latest", "foo/bar/baz:latest"],
    ["library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest"],
    ["host:5000/a/b:tag", "host:5000/a/b:tag", "host:5000/a/b:tag"],
    ["localhost/x", "localhost/x:latest", "localhost/x:latest"],
    ["localhost:5000/x", "localhost:5000/x:latest", "localhost:5000/x:latest"],
    ["foo.com/bar", "foo.com/bar:latest", "foo.com/bar:latest"],
    ["registry-1.docker.io/x", "registry-1.docker.io/x:latest", "registry-1.docker.io/x:latest"],
    ["127.0.0.1:5000/a/b", "127.0.0.1:5000/a/b:latest", "127.0.0.1:5000/a/b:latest"],
    ["[::1]:5000/x:1", "[::1]:5000/x:1", "[::1]:5000/x:1"],
    ["Foo/bar", "Foo/bar:latest", "Foo/bar:latest"], // an uppercase first component is a host
    [`name@${D}`, `docker.io/library/name@${D}`, `name@${D}`],
    [`name:tag@${D}`, `docker.io/library/name:tag@${D}`, `name:tag@${D}`],
    [`host:5000/a@${D}`, `host:5000/a@${D}`, `host:5000/a@${D}`],
    ["a__b", "docker.io/library/a__b:latest", "a__b:latest"],
    ["a--b.c_d", "docker.io/library/a--b.c_d:latest", "a--b.c_d:latest"],
    ["localhost", "docker.io/library/localhost:latest", "localhost:latest"],
    ["localhost:5000", "docker.io/library/localhost:5000", "localhost:5000"], // a tag, as in docker
    [`x:${"t".repeat(128)}`, `docker.io/library/x:${"t".repeat(128)}`, `x:${"t".repeat(128)}`],
    ["x:V1.0_rc-2", "docker.io/library/x:V1.0_rc-2", "x:V1.0_rc-2"],
  ];
  it.each(ok)("%s → %s", (input, full, familiar) => {
    const r = parseReference(input);
    expect(formatReference(r)).toBe(full);
    expect(familiarString(r)).toBe(familiar);
  });

  it("splits domain, path, tag and digest", () => {
    expect(parseReference(`host:5000/a/b:t@${D}`)).toEqual({ domain: "host:5000", path: "a/b", tag: "t", digest: D });
    expect(parseReference(`a@${D}`)).toEqual({ domain: "docker.io", path: "library/a", digest: D });
    expect(parseReference("a", { defaultTag: false })).toEqual({ domain: "docker.io", path: "library/a" });
  });

  const bad: [input: string, reason: RegExp][] = [
    ["", /at least one component/],
    ["Busybox", /must be lowercase/],
    ["docker.io/Foo/bar", /must be lowercase/],
    ["user/Img:tag", /must be lowercase/],
    ["a".repeat(64), /64-byte hexadecimal/],
    ["busybox:", /not a valid/],
    [":tag", /not a valid/],
    ["-x", /not a valid/],
    ["a/-b", /not a valid/],
    ["a//b", /not a valid/],
    ["a___b", /not a valid/],
    ["a..b", /not a valid/],
    ["a:b:c", /bad registry host|not a valid/],
    ["example.com:port/x", /bad registry host/],
    ["x@sha256:abc", /not a valid/],
    [`x@sha256:${"AB".repeat(32)}`, /64 lowercase hex/],
    [`x@sha512:${"ab".repeat(64)}`, /unsupported digest algorithm/],
    [`x:${"t".repeat(129)}`, /not a valid/],
    [`x/${"a".repeat(250)}`, /255 characters/],
    ["a b", /not a valid/],
  ];
  it.each(bad)("rejects %j", (input, reason) => {
    let err: unknown;
    try {
      parseReference(input);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: "STRATA_REF_INVALID", message: expect.stringMatching(reason) });
  });
});

describe("registry names", () => {
  it("maps Docker Hub to its API host", () => {
    expect(apiHost("docker.io")).toBe("registry-1.docker.io");
    expect(apiHost("ghcr.io")).toBe("ghcr.io");
  });
  it.each([
    ["index.docker.io", "docker.io"],
    ["https://index.docker.io/v1/", "docker.io"],
    ["registry-1.docker.io", "docker.io"],
    ["http://localhost:5000/v2/", "localhost:5000"],
    ["ghcr.io", "ghcr.io"],
  ])("normalizeRegistry(%s) = %s", (input, out) => {
    expect(normalizeRegistry(input)).toBe(out);
  });
  it("withTag drops the digest and validates", () => {
    expect(formatReference(withTag(parseReference(`a:b@${D}`), "c"))).toBe("docker.io/library/a:c");
    expect(() => withTag(parseReference("a"), "bad tag")).toThrow(/invalid tag/);
  });
});
