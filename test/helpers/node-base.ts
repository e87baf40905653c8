import { lstatSync, readdirSync, readlinkSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { execFileSync } from "node:child_process";
import type { LayerEntry } from "@strata/oci";
import { busyboxEntries, oneLayerLayout } from "./busybox.ts";

const text = (s: string) => new TextEncoder().encode(s);

/**
 * The entries of a Node.js base image made from this machine's own `node` and `npm` (the binary,
 * the shared libraries `ldd` lists, npm's tree) on top of the busybox root, with the `node`
 * user (uid 1000) the official images have: an offline stand-in for `node:22-slim` that really
 * runs `npm ci` and `node`.
 */
function nodeEntries(): LayerEntry[] {
  const node = realpathSync(process.execPath);
  const seen = new Set<string>();
  const out: LayerEntry[] = [];
  const dir = (path: string) => {
    if (seen.has(path) || path === "" || path === ".") return;
    dir(dirname(path));
    seen.add(path);
    out.push({ type: "directory", path, mode: 0o755, uid: 0, gid: 0, mtime: 0 });
  };
  const file = (host: string, path = host.slice(1)) => {
    dir(dirname(path));
    const st = lstatSync(host);
    if (st.isSymbolicLink()) out.push({ type: "symlink", path, linkname: readlinkSync(host), mode: 0o777, uid: 0, gid: 0, mtime: 0 });
    else out.push({ type: "file", path, mode: st.mode & 0o777, uid: 0, gid: 0, mtime: 0, size: st.size, content: { path: host } });
  };
  const tree = (host: string) => {
    for (const e of readdirSync(host, { withFileTypes: true })) {
      const p = join(host, e.name);
      if (e.isDirectory()) {
        dir(p.slice(1));
        tree(p);
      } else file(p);
    }
  };
  file(node, "usr/local/bin/node");
  const libs = execFileSync("ldd", [node], { encoding: "utf8" }).match(/\/[^\s]+/g) ?? [];
  for (const lib of libs) {
    file(realpathSync(lib), realpathSync(lib).slice(1));
    if (realpathSync(lib) !== lib) out.push({ type: "symlink", path: lib.slice(1), linkname: realpathSync(lib), mode: 0o777, uid: 0, gid: 0, mtime: 0 });
  }
  const npm = dirname(dirname(realpathSync(execFileSync("sh", ["-c", "command -v npm"], { encoding: "utf8" }).trim())));
  dir(npm.slice(1));
  tree(npm);
  out.push({ type: "symlink", path: "usr/local/bin/npm", linkname: `${npm}/bin/npm-cli.js`, mode: 0o777, uid: 0, gid: 0, mtime: 0 });
  // npm-cli.js starts with `#!/usr/bin/env node`.
  dir("usr/bin");
  out.push({ type: "symlink", path: "usr/bin/env", linkname: "/bin/busybox", mode: 0o777, uid: 0, gid: 0, mtime: 0 });
  return out;
}

/** An OCI layout with the host's node + npm on busybox (`latest`), made once per directory. */
export async function nodeBaseLayout(dir: string): Promise<string> {
  const base = busyboxEntries().filter((e) => e.path !== "etc/passwd" && e.path !== "etc/group");
  const have = new Set(base.map((e) => e.path));
  const passwd = "root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
  const group = "root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n";
  const entries: LayerEntry[] = [
    ...base,
    { type: "file", path: "etc/passwd", mode: 0o644, uid: 0, gid: 0, mtime: 0, size: text(passwd).length, content: { bytes: text(passwd) } },
    { type: "file", path: "etc/group", mode: 0o644, uid: 0, gid: 0, mtime: 0, size: text(group).length, content: { bytes: text(group) } },
    { type: "directory", path: "home/node", mode: 0o755, uid: 1000, gid: 1000, mtime: 0 },
    ...nodeEntries().filter((e) => !have.has(e.path) || e.type !== "directory"),
  ];
  const unique = [...new Map(entries.map((e) => [e.path, e])).values()];
  return oneLayerLayout(join(dir, "node-base"), unique, { Cmd: ["node"] }, "host node + npm on busybox-static (test base image)");
}
