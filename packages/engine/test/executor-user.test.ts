import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveUser } from "../src/executor/resolve-user.ts";
import { tempDir } from "./helpers/busybox-rootfs.ts";

const tmp = tempDir("strata-user-");
afterAll(() => tmp.cleanup());

function root(name: string, passwd?: string, group?: string): string {
  const dir = join(tmp.path, name);
  mkdirSync(join(dir, "etc"), { recursive: true });
  if (passwd !== undefined) writeFileSync(join(dir, "etc/passwd"), passwd);
  if (group !== undefined) writeFileSync(join(dir, "etc/group"), group);
  return dir;
}

const PASSWD = "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:A User:/home/user:/bin/sh\n";
const GROUP = "root:x:0:\nwheel:x:10:user,root\nuser:x:1000:\nstaff:x:50:user\n";

describe("resolveUser", () => {
  const r = root("std", PASSWD, GROUP);

  // Expected values are what `docker build` (BuildKit, docker 20.10) printed with `id` for
  // `USER <spec>` on an image with exactly these two files.
  it.each([
    ["", 0, 0, [], "/root"],
    ["0", 0, 0, [10], "/root"],
    ["root", 0, 0, [10], "/root"],
    ["user", 1000, 1000, [10, 50], "/home/user"],
    ["1000", 1000, 1000, [10, 50], "/home/user"],
    ["user:staff", 1000, 50, [], "/home/user"],
    ["1000:50", 1000, 50, [], "/home/user"],
    ["user:0", 1000, 0, [], "/home/user"],
    ["2000", 2000, 0, [], "/"],
    ["2000:user", 2000, 1000, [], "/"],
  ])("USER %j → uid %i gid %i groups %j home %s (as docker build)", async (spec, uid, gid, groups, home) => {
    const u = await resolveUser(r, spec);
    expect({ uid: u.uid, gid: u.gid, additionalGids: u.additionalGids, home: u.home }).toEqual({
      uid,
      gid,
      additionalGids: groups,
      home,
    });
  });

  it("rejects unknown named users and groups with stable codes", async () => {
    await expect(resolveUser(r, "nouser")).rejects.toMatchObject({ code: "STRATA_RUN_USER_NOT_FOUND", message: expect.stringContaining("nouser") });
    await expect(resolveUser(r, "user:nogrp")).rejects.toMatchObject({ code: "STRATA_RUN_GROUP_NOT_FOUND", message: expect.stringContaining("nogrp") });
  });

  it("rejects ids beyond 2^31-1", async () => {
    await expect(resolveUser(r, "4294967296")).rejects.toMatchObject({ code: "STRATA_RUN_ID_RANGE" });
  });

  it("works without /etc/passwd for numeric users, fails for names", async () => {
    const bare = root("bare");
    expect(await resolveUser(bare, "123")).toMatchObject({ uid: 123, gid: 0, additionalGids: [], home: "/" });
    expect(await resolveUser(bare, "123:45")).toMatchObject({ uid: 123, gid: 45 });
    await expect(resolveUser(bare, "user")).rejects.toMatchObject({ code: "STRATA_RUN_USER_NOT_FOUND" });
  });

  it("reads /etc/passwd through the image's symlinks, never the host's", async () => {
    const linked = root("linked");
    mkdirSync(join(linked, "data"));
    writeFileSync(join(linked, "data/passwd"), "app:x:777:778::/app:/bin/sh\n");
    symlinkSync("/data/passwd", join(linked, "etc/passwd"));
    expect(await resolveUser(linked, "app")).toMatchObject({ uid: 777, gid: 778, home: "/app" });
    // A link that climbs out (to the host's /etc/passwd-, which lists root) resolves inside the
    // root instead, where there is no such file.
    rmSync(join(linked, "etc/passwd"));
    symlinkSync("../../../../../../../../etc/passwd-", join(linked, "etc/passwd"));
    await expect(resolveUser(linked, "root")).rejects.toMatchObject({ code: "STRATA_RUN_USER_NOT_FOUND" });
  });

  it("ignores comments and malformed lines", async () => {
    const odd = root("odd", "# comment\nbroken\nsvc:x:notanumber:1::/:/bin/sh\nsvc:x:300:301::/srv:/bin/sh\n", "bad\nsvcgrp:x:302:svc\n");
    expect(await resolveUser(odd, "svc")).toMatchObject({ uid: 300, gid: 301, additionalGids: [302], home: "/srv" });
  });
});
