import { describe, expect, test } from "vitest";
import { goMatch, validateGoPattern } from "../src/context/go-match.ts";
import { cleanPath } from "../src/context/go-path.ts";
import { parseIgnoreFile } from "../src/context/ignore-file.ts";
import { PatternMatcher, type MatchInfo } from "../src/context/pattern-matcher.ts";

// [pattern, path, expectation]: "exact" = the path itself matches, "inexact" = only through a
// parent directory, "fail" = no match. The behaviour moby/patternmatcher documents.
const single: [string, string, "exact" | "inexact" | "fail"][] = [
  ["**", "file", "exact"],
  ["**", "dir/file", "exact"],
  ["**/", "file", "exact"],
  ["**/", "dir/file", "exact"],
  ["**/**", "dir/file", "exact"],
  ["dir/**", "dir/file", "exact"],
  ["dir/**", "dir/dir2/file", "exact"],
  ["**/dir", "dir", "exact"],
  ["**/dir", "dir/file", "inexact"],
  ["**/dir2/*", "dir/dir2/file", "exact"],
  ["**/dir2/**", "dir/dir2/dir3/file", "exact"],
  ["**file", "file", "exact"],
  ["**file", "dir/file", "exact"],
  ["**/file", "dir/file", "exact"],
  ["**file", "dir/dir/file", "exact"],
  ["**/file", "dir/dir/file", "exact"],
  ["**/file*", "dir/dir/file", "exact"],
  ["**/file*", "dir/dir/file.txt", "exact"],
  ["**/file*txt", "dir/dir/file.txt", "exact"],
  ["**/file*.txt", "dir/dir/file.txt", "exact"],
  ["**/file*.txt*", "dir/dir/file.txt", "exact"],
  ["**/**/*.txt", "dir/dir/file.txt", "exact"],
  ["**/**/*.txt2", "dir/dir/file.txt", "fail"],
  ["**/*.txt", "file.txt", "exact"],
  ["**/**/*.txt", "file.txt", "exact"],
  ["a**/*.txt", "a/file.txt", "exact"],
  ["a**/*.txt", "a/dir/file.txt", "exact"],
  ["a**/*.txt", "a/dir/dir/file.txt", "exact"],
  ["a/*.txt", "a/dir/file.txt", "fail"],
  ["a/*.txt", "a/file.txt", "exact"],
  ["a/*.txt**", "a/file.txt", "exact"],
  ["a[b-d]e", "ae", "fail"],
  ["a[b-d]e", "ace", "exact"],
  ["a[b-d]e", "aae", "fail"],
  ["a[^b-d]e", "aze", "exact"],
  [".*", ".foo", "exact"],
  [".*", "foo", "fail"],
  ["abc.def", "abcdef", "fail"],
  ["abc.def", "abc.def", "exact"],
  ["abc.def", "abcZdef", "fail"],
  ["abc?def", "abcZdef", "exact"],
  ["abc?def", "abcdef", "fail"],
  ["**/foo/bar", "foo/bar", "exact"],
  ["**/foo/bar", "dir/foo/bar", "exact"],
  ["**/foo/bar", "dir/dir2/foo/bar", "exact"],
  ["abc/**", "abc", "fail"],
  ["abc/**", "abc/def", "exact"],
  ["abc/**", "abc/def/ghi", "exact"],
  ["**/.foo", ".foo", "exact"],
  ["**/.foo", "bar.foo", "fail"],
  ["a(b)c/def", "a(b)c/def", "exact"],
  ["a(b)c/def", "a(b)c/xyz", "fail"],
  ["a.|)$(}+{bc", "a.|)$(}+{bc", "exact"],
  ["dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", "exact"],
  ["dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", "exact"],
  ["a\\\\", "a\\", "exact"],
  ["a\\*b", "a*b", "exact"],
  ["docs", "docs/README.md", "inexact"],
  ["docs/", "docs/README.md", "inexact"],
  ["*/temp*", "somedir/temporary.txt", "exact"],
  ["*/temp*", "somedir/sub/temporary.txt", "fail"],
  ["*/temp*", "somedir/temp/x.txt", "inexact"],
  ["temp?", "temp1", "exact"],
  ["temp?", "temp12", "fail"],
  ["a/**/b", "a/b", "exact"],
  ["a/**/b", "a/x/y/b", "exact"],
  ["a/**/b", "a/x/y/bc", "fail"],
];

const multi: [string[], string, boolean][] = [
  [["**", "!util/docker/web"], "util/docker/web/foo", false],
  [["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", true],
  [["**", "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false],
  [["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false],
  [["!fileutils.go", "*.go"], "fileutils.go", true],
  [["*.go", "!fileutils.go"], "fileutils.go", false],
  [["docs", "!docs/README.md"], "docs/README.md", false],
  [["docs/*", "!docs/README.md"], "docs/README.md", false],
  [["*.md", "!README*.md", "README-secret.md"], "README.md", false],
  [["*.md", "!README*.md", "README-secret.md"], "README-secret.md", true],
  [["*.md", "!README*.md", "README-secret.md"], "CHANGES.md", true],
  [["dir", "!**/keep.txt"], "dir/sub/keep.txt", false],
  [["dir", "!**/keep.txt"], "dir/sub/other.txt", true],
];

/** Walk-style matching: evaluates each parent first and hands its results down, as a walker does. */
function walkMatch(m: PatternMatcher, path: string): boolean {
  const parts = path.split("/");
  let info: MatchInfo = [];
  let matched = false;
  for (let i = 1; i <= parts.length; i++) {
    const r = m.matchesUsingParent(parts.slice(0, i).join("/"), info);
    info = r.info;
    matched = r.matched;
  }
  return matched;
}

describe("moby pattern matcher semantics", () => {
  test.each(single)("%s vs %s → %s", (pattern, path, want) => {
    const m = new PatternMatcher([pattern]);
    expect(m.matches(path)).toBe(want !== "fail");
    expect(walkMatch(m, path)).toBe(want !== "fail");
    // the pattern alone against the path, no parent matching
    expect(m.patterns[0]?.matches(cleanPath(path))).toBe(want === "exact");
  });

  test.each(multi)("%j vs %s → %s", (patterns, path, want) => {
    const m = new PatternMatcher(patterns);
    expect(m.matches(path)).toBe(want);
    expect(walkMatch(m, path)).toBe(want);
  });

  test("`.` is never matched and empty patterns are dropped", () => {
    expect(new PatternMatcher(["*"]).matches(".")).toBe(false);
    expect(new PatternMatcher(["docs", "config", ""]).patterns).toHaveLength(2);
    expect(new PatternMatcher(["docs", "  !docs/README.md  "]).exclusions).toBe(true);
  });

  test.each(["!", "[", "a[", "[^", "[^bc", "[]a]", "[-]", "[x-]", "[-x]", "\\", "[a-b-c]"])("malformed pattern %j is refused with a coded error", (p) => {
    expect(() => new PatternMatcher([p])).toThrowError(expect.objectContaining({ code: "STRATA_IGNORE_BAD_PATTERN" }));
  });
});

describe("Go filepath.Match", () => {
  const cases: [string, string, boolean][] = [
    ["abc", "abc", true],
    ["*", "abc", true],
    ["*c", "abc", true],
    ["a*", "a", true],
    ["a*", "abc", true],
    ["a*", "ab/c", false],
    ["a*/b", "abc/b", true],
    ["a*/b", "a/c/b", false],
    ["a*b*c*d*e*/f", "axbxcxdxe/f", true],
    ["a*b*c*d*e*/f", "axbxcxdxexxx/f", true],
    ["a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false],
    ["a*b*c*d*e*/f", "axbxcxdxexxx/fff", false],
    ["a*b?c*x", "abxbbxdbxebxczzx", true],
    ["a*b?c*x", "abxbbxdbxebxczzy", false],
    ["ab[c]", "abc", true],
    ["ab[b-d]", "abc", true],
    ["ab[e-g]", "abc", false],
    ["ab[^c]", "abc", false],
    ["ab[^b-d]", "abc", false],
    ["ab[^e-g]", "abc", true],
    ["a\\*b", "a*b", true],
    ["a\\*b", "ab", false],
    ["a?b", "a☺b", true],
    ["a[^a]b", "a☺b", true],
    ["a???b", "a☺b", false],
    ["a[^a][^a][^a]b", "a☺b", false],
    ["[a-ζ]*", "α", true],
    ["*[a-ζ]", "A", false],
    ["a?b", "a/b", false],
    ["a*b", "a/b", false],
    ["[\\]a]", "]", true],
    ["[\\-]", "-", true],
    ["[x\\-]", "x", true],
    ["[x\\-]", "-", true],
    ["[x\\-]", "z", false],
    ["[\\-x]", "x", true],
    ["[\\-x]", "-", true],
    ["[\\-x]", "a", false],
    ["*x", "xxx", true],
  ];
  test.each(cases)("Match(%j, %j) = %s", (p, s, want) => {
    expect(goMatch(p, s)).toBe(want);
  });
  test.each(["[]a]", "[-]", "[x-]", "[-x]", "\\", "[a-b-c]", "[", "[^", "[^bc", "a["])("bad pattern %j", (p) => {
    expect(() => validateGoPattern(p)).toThrow(/syntax error/);
  });
});

describe(".dockerignore parsing", () => {
  test("comments only at column 0, trimming, cleaning, leading slash, exceptions, CRLF and BOM", () => {
    const text = "\ufefftest1\r\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n #not a comment\n! /inverted/abs/path\n!\n! \nfoo/../bar/  \n./x/./y\n*.tmp   \n";
    expect(parseIgnoreFile(text)).toEqual(["test1", "test2", "a/file/here", "lastfile", "#not a comment", "!inverted/abs/path", "!", "!", "bar", "x/y", "*.tmp"]);
  });
  test("backslashes are not separators on Linux", () => {
    const m = new PatternMatcher(parseIgnoreFile("dir\\sub\n"));
    expect(m.matches("dir/sub")).toBe(false);
    expect(m.matches("dirsub")).toBe(true);
  });
});
