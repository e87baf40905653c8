// Bench fixtures: a generated build context and a busybox base image for both engines.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync, cpSync, rmSync, renameSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { REPO } from "./lib.mjs";

export const DOCKER = "/usr/bin/docker";

/** A deterministic context: `files` files (mostly small, a few large) totalling about `mb` MB. */
export function generateContext(dir, { files = 20_000, mb = 300 } = {}) {
  const marker = join(dir, ".complete");
  if (existsSync(marker)) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let seed = 42;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const large = 20;
  const largeBytes = Math.floor((mb * 0.7 * 1024 * 1024) / large);
  const smallBytes = Math.floor((mb * 0.3 * 1024 * 1024) / (files - large));
  for (let i = 0; i < files; i++) {
    const sub = join(dir, `d${i % 100}`, `e${Math.floor(i / 100) % 20}`);
    if (i % 100 < 1 || !existsSync(sub)) mkdirSync(sub, { recursive: true });
    const size = i < large ? largeBytes : Math.max(1, Math.floor(smallBytes * (0.5 + rnd())));
    const buf = Buffer.alloc(size);
    for (let j = 0; j + 4 <= size; j += 4096) buf.writeUInt32LE((rnd() * 2 ** 32) >>> 0, j);
    writeFileSync(join(sub, `f${i}.bin`), buf);
  }
  writeFileSync(marker, "");
  return dir;
}

/** The busybox base as an OCI layout (for strata) and as a docker image (for docker build). */
export async function busyboxBase(dir, tag = "strata-bench/busybox:1") {
  const layout = join(dir, "busybox");
  if (!existsSync(join(layout, "index.json"))) {
    const out = join(dir, ".mk-busybox.mjs");
    const r = await build({
      stdin: { contents: `import { busyboxLayout } from "./test/helpers/busybox.ts"; export default busyboxLayout;`, resolveDir: REPO, loader: "ts" },
      bundle: true, write: false, format: "esm", platform: "node",
    });
    writeFileSync(out, r.outputFiles[0].text);
    const mk = (await import(out)).default;
    await mk(dir);
  }
  if (spawnSync(DOCKER, ["image", "inspect", tag], { stdio: "ignore" }).status !== 0) {
    execFileSync("sh", ["-c", `${DOCKER} load -q < /dev/null 2>/dev/null; true`]);
    // docker can't load an OCI layout (20.10): convert with skopeo, else import the rootfs.
    const tar = join(dir, "busybox-docker.tar");
    execFileSync("skopeo", ["copy", "-q", `oci:${layout}:latest`, `docker-archive:${tar}:${tag}`]);
    execFileSync(DOCKER, ["load", "-q", "-i", tar]);
    rmSync(tar, { force: true });
  }
  return { layout, tag };
}

export function dockerAvailable() {
  return spawnSync(DOCKER, ["info"], { stdio: "ignore" }).status === 0;
}

export { cpSync, renameSync };
