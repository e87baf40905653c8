import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { familiarString, parseReference } from "../src/index.ts";

/**
 * The real Docker CLI as the oracle: `docker tag` parses with its vendored
 * distribution/reference. Docker 20.10's copy predates two later rules we follow (an
 * uppercase first component is a host; IPv6 hosts), so those inputs are not asked here.
 */
const DOCKER = "/usr/bin/docker";
const docker = (...args: string[]): string => execFileSync(DOCKER, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const BASE = `strata-ref-oracle:${process.pid}`;

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), "strata-ref-"));
  execFileSync("tar", ["-cf", join(dir, "empty.tar"), "--files-from", "/dev/null"]);
  docker("import", join(dir, "empty.tar"), BASE);
});
afterAll(() => {
  try {
    docker("rmi", "-f", BASE);
  } catch {
    // gone
  }
});

const inputs = [
  "busybox",
  "busybox:1.36",
  "library/busybox",
  "docker.io/busybox",
  "index.docker.io/user/img:tag",
  "user/img",
  "foo/bar/baz",
  "host:5000/a/b:tag",
  "localhost/x",
  "localhost:5000",
  "foo.com/bar",
  "registry-1.docker.io/x",
  "a__b",
  "a--b.c_d",
  "x:V1.0_rc-2",
  "Busybox",
  "user/Img",
  "a___b",
  "a..b",
  "a:b:c",
  "busybox:",
  "example.com:port/x",
  "-x",
  "a//b",
];

describe("parseReference agrees with docker's CLI", () => {
  it.each(inputs)("%s", (input) => {
    let dockerOk = true;
    try {
      docker("tag", BASE, input);
    } catch {
      dockerOk = false;
    }
    let ours: string | undefined;
    try {
      ours = familiarString(parseReference(input));
    } catch {
      ours = undefined;
    }
    expect(ours !== undefined).toBe(dockerOk);
    if (dockerOk) {
      const tags = JSON.parse(docker("image", "inspect", "--format", "{{json .RepoTags}}", BASE)) as string[];
      expect(tags).toContain(ours);
      docker("rmi", input);
    }
  });
});
