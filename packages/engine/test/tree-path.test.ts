import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { masker, secretMasks } from "../src/run/mask.ts";
import { resolveMountSource } from "../src/run/mount-source.ts";
import { hostTree, resolveTreePath, type TreeNode } from "../src/sandbox-util/tree-path.ts";

const tmp = mkdtempSync(join(tmpdir(), "strata-tree-path-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("resolveTreePath (the one resolver for paths inside a tree)", () => {
  const tree = (nodes: Record<string, TreeNode>) => (rel: string) => nodes[rel];

  it("follows links inside the root: absolute targets restart at the root, `..` stops at it", () => {
    const t = tree({ host: { type: "symlink", linkname: "/" }, up: { type: "symlink", linkname: "../../../etc" }, etc: { type: "directory" }, "etc/passwd": { type: "file" } });
    expect(resolveTreePath(t, "/host/etc/passwd")).toBe("etc/passwd");
    expect(resolveTreePath(t, "/host/host/host/tmp/x")).toBe("tmp/x");
    expect(resolveTreePath(t, "/up/passwd")).toBe("etc/passwd");
    expect(resolveTreePath(t, "../../../../etc")).toBe("etc");
    expect(resolveTreePath(t, "/host", { followLast: false })).toBe("host");
  });

  it("a link loop is a coded error", () => {
    const t = tree({ a: { type: "symlink", linkname: "b" }, b: { type: "symlink", linkname: "/a" } });
    expect(() => resolveTreePath(t, "/a/x", { loopCode: "STRATA_COPY_SYMLINK_LOOP" })).toThrow(expect.objectContaining({ code: "STRATA_COPY_SYMLINK_LOOP" }));
  });

  it("whatever the links and the path say, the result never climbs out of the root", () => {
    const seg = fc.constantFrom("a", "b", "..", ".", "", "/", "etc");
    const target = fc.array(seg, { maxLength: 5 }).map((p) => p.join("/"));
    fc.assert(
      fc.property(target, target, fc.array(seg, { maxLength: 8 }), (la, lb, path) => {
        const t = tree({ a: { type: "symlink", linkname: la }, b: { type: "symlink", linkname: lb }, etc: { type: "directory" } });
        let r: string;
        try {
          r = resolveTreePath(t, path.join("/"));
        } catch (e) {
          return (e as { code?: string }).code === "STRATA_PATH_SYMLINK_LOOP";
        }
        return !r.split("/").includes("..") && !r.startsWith("/");
      }),
    );
  });

  it("over a host directory it never looks outside it", () => {
    const root = join(tmp, "root");
    mkdirSync(join(root, "etc"), { recursive: true });
    writeFileSync(join(root, "etc", "f"), "x");
    symlinkSync("/", join(root, "host"));
    symlinkSync("/etc/shadow", join(root, "shadow"));
    expect(resolveTreePath(hostTree(root), "/host/etc/f")).toBe("etc/f");
    expect(resolveTreePath(hostTree(root), "/shadow")).toBe("etc/shadow");
  });
});

describe("resolveMountSource", () => {
  it("resolves inside the root, and a source missing there is STRATA_RUN_MOUNT_SOURCE", () => {
    const root = join(tmp, "src");
    mkdirSync(join(root, "data"), { recursive: true });
    symlinkSync("/", join(root, "host"));
    symlinkSync("/data", join(root, "link"));
    const real = realpathSync(root);
    expect(resolveMountSource(root, "/link", "bind mount", undefined)).toEqual({ path: join(real, "data"), rel: "data", isDir: true });
    expect(resolveMountSource(root, "/host/data", "bind mount", undefined).path).toBe(join(real, "data"));
    expect(resolveMountSource(root, "/", "bind mount", undefined).path).toBe(real);
    expect(() => resolveMountSource(root, `/host${tmp}`, "bind mount", undefined)).toThrow(expect.objectContaining({ code: "STRATA_RUN_MOUNT_SOURCE" }));
    expect(() => resolveMountSource(root, "../../../../etc", "bind mount", undefined)).toThrow(expect.objectContaining({ code: "STRATA_RUN_MOUNT_SOURCE" }));
  });
});

describe("secret masks", () => {
  it("mask the whole value and each line of a multi-line secret; short lines stay", () => {
    const m = masker(secretMasks("-----BEGIN-----\nline-one-abc\nline-two-def\n}\n"));
    expect(m("got line-one-abc and line-two-def")).toBe("got **** and ****");
    expect(m("-----BEGIN-----")).toBe("****");
    expect(m("{ } a")).toBe("{ } a");
    expect(masker([])("same")).toBe("same");
  });
});
