import { existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { assembleImage, FsBlobStore, writeLayer, writeOciLayout, type LayerEntry } from "@strata/oci";

/** Applets the test images link to busybox (what RUN steps in tests use). */
const APPLETS = "sh ash ls cat echo mkdir rm id env touch ln chmod chown sleep true false pwd wc grep sed cp mv stat find head tail date sort uname whoami test printf hostname ip ps readlink tar xargs md5sum sha256sum seq tr cut dd mount od".split(" ");

const text = (s: string) => new TextEncoder().encode(s);

/** The entries of a small busybox-static root filesystem with a non-root user (`app`, 1000) and a group. */
export function busyboxEntries(binary = "/bin/busybox"): LayerEntry[] {
  const dir = (path: string, mode = 0o755, uid = 0, gid = 0): LayerEntry => ({ type: "directory", path, mode, uid, gid, mtime: 0 });
  const file = (path: string, body: string, mode = 0o644): LayerEntry => ({ type: "file", path, mode, uid: 0, gid: 0, mtime: 0, size: text(body).length, content: { bytes: text(body) } });
  return [
    dir("bin"),
    { type: "file", path: "bin/busybox", mode: 0o755, uid: 0, gid: 0, mtime: 0, size: statSync(binary).size, content: { path: binary } },
    ...APPLETS.map((a): LayerEntry => ({ type: "symlink", path: `bin/${a}`, linkname: "busybox", mode: 0o777, uid: 0, gid: 0, mtime: 0 })),
    dir("etc"),
    file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"),
    file("etc/group", "root:x:0:\napp:x:1000:\nstaff:x:50:app\nnogroup:x:65534:\n"),
    dir("home"),
    dir("home/app", 0o755, 1000, 1000),
    dir("root", 0o700),
    dir("tmp", 0o1777),
    dir("usr"),
    dir("usr/local"),
    dir("usr/local/bin"),
  ];
}

/**
 * An OCI image layout holding a busybox-static image (`latest`), made once per directory with
 * Strata's own writer: the offline base image every build test starts from.
 */
export async function busyboxLayout(dir: string): Promise<string> {
  if (!existsSync("/bin/busybox")) throw new Error("busybox-static is not installed (apt-get install busybox-static)");
  return oneLayerLayout(join(dir, "busybox"), busyboxEntries(), { Cmd: ["sh"] }, "busybox-static (test base image)");
}

/**
 * An OCI layout (`latest`) of a one-layer image made from `entries` (amd64 unless `architecture`
 * says otherwise), written once (the layout is built beside its final path and renamed into
 * place, so a half-made one is never seen).
 */
export async function oneLayerLayout(layout: string, entries: readonly LayerEntry[], config: { readonly Cmd: readonly string[] }, createdBy: string, architecture = "amd64"): Promise<string> {
  if (existsSync(join(layout, "index.json"))) return layout;
  const tmp = `${layout}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const store = new FsBlobStore(join(tmp, ".store"));
  const layer = await writeLayer([...entries], { to: { store } });
  const image = await assembleImage({
    store,
    config: { architecture, os: "linux", config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: [...config.Cmd] }, history: [{ created_by: createdBy }] },
    layers: [{ descriptor: layer.descriptor, diffId: layer.diffId }],
  });
  await writeOciLayout([{ image, ref: "latest" }], { dir: join(tmp, "layout") });
  mkdirSync(dirname(layout), { recursive: true });
  renameSync(join(tmp, "layout"), layout);
  rmSync(tmp, { recursive: true, force: true });
  return layout;
}
