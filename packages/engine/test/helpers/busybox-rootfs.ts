import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BUSYBOX = "/bin/busybox";

/** True when a static busybox (Debian's busybox-static) is there to build test roots from. */
export function haveStaticBusybox(): boolean {
  if (!existsSync(BUSYBOX)) return false;
  try {
    return !execFileSync("file", ["-L", BUSYBOX], { encoding: "utf8" }).includes("dynamically linked");
  } catch {
    return true;
  }
}

/**
 * A minimal image root: /bin/busybox with its applets as symlinks, /etc/passwd with root and a
 * non-root user (1000, also in group wheel), /etc/group, /tmp, /root and a home directory. No
 * /proc, /dev or /sys: executors must create (and remove) those mount points themselves.
 */
export function makeBusyboxRootfs(dir: string): string {
  mkdirSync(join(dir, "bin"), { recursive: true });
  copyFileSync(BUSYBOX, join(dir, "bin/busybox"));
  execFileSync("chmod", ["755", join(dir, "bin/busybox")]);
  const applets = execFileSync(BUSYBOX, ["--list"], { encoding: "utf8" }).split("\n").filter((a) => a !== "" && a !== "busybox");
  for (const a of applets) symlinkSync("busybox", join(dir, "bin", a));
  mkdirSync(join(dir, "etc"));
  writeFileSync(
    join(dir, "etc/passwd"),
    "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:A User:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
  );
  writeFileSync(join(dir, "etc/group"), "root:x:0:\nwheel:x:10:user,root\nuser:x:1000:\nstaff:x:50:user\nnogroup:x:65534:\n");
  mkdirSync(join(dir, "tmp"), { mode: 0o1777 });
  execFileSync("chmod", ["1777", join(dir, "tmp")]);
  mkdirSync(join(dir, "root"), { mode: 0o700 });
  mkdirSync(join(dir, "home/user"), { recursive: true });
  execFileSync("chown", ["1000:1000", join(dir, "home/user")]);
  return dir;
}

/** A fresh temporary directory under /tmp (or $TMPDIR) that `cleanup` removes. */
export function tempDir(prefix: string): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}
