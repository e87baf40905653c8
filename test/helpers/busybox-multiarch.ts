import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { assembleIndex, FsBlobStore, readOciLayout, writeOciLayout } from "@strata/oci";
import { busyboxEntries, oneLayerLayout } from "./busybox.ts";

/**
 * Where the arm64 busybox-static binary is kept between runs. `.ci/run` fills it
 * (`dpkg --add-architecture arm64`, `apt-get download busybox-static:arm64`); locally the first
 * call does the same.
 */
const ARM64_BUSYBOX = process.env.STRATA_TEST_ARM64_BUSYBOX ?? "/opt/strata-tools/busybox-arm64";

/**
 * The path of an arm64 busybox-static binary (Debian's `busybox-static:arm64`), downloaded and
 * unpacked once. Throws with the commands to run when apt cannot get it.
 */
export function arm64Busybox(): string {
  if (existsSync(ARM64_BUSYBOX)) return ARM64_BUSYBOX;
  const work = mkdtempSync(join(tmpdir(), "strata-bb-arm64-"));
  try {
    const arches = execFileSync("dpkg", ["--print-foreign-architectures"], { encoding: "utf8" });
    if (!arches.split("\n").includes("arm64")) {
      execFileSync("dpkg", ["--add-architecture", "arm64"]);
      execFileSync("apt-get", ["update", "-qq"], { stdio: "ignore" });
    }
    execFileSync("apt-get", ["download", "-qq", "busybox-static:arm64"], { cwd: work, stdio: "ignore" });
    const deb = execFileSync("sh", ["-c", "ls *.deb"], { cwd: work, encoding: "utf8" }).trim();
    execFileSync("dpkg-deb", ["-x", deb, "root"], { cwd: work });
    mkdirSync(dirname(ARM64_BUSYBOX), { recursive: true });
    const tmp = `${ARM64_BUSYBOX}.tmp-${process.pid}`;
    copyFileSync(join(work, "root/bin/busybox"), tmp);
    chmodSync(tmp, 0o755);
    renameSync(tmp, ARM64_BUSYBOX);
    return ARM64_BUSYBOX;
  } catch (e) {
    throw new Error(`cannot get busybox-static:arm64 (dpkg --add-architecture arm64 && apt-get update && apt-get download busybox-static:arm64): ${(e as Error).message}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** An OCI layout (`latest`) holding a one-platform linux/arm64 busybox image. */
export async function busyboxArm64Layout(dir: string): Promise<string> {
  return oneLayerLayout(join(dir, "busybox-arm64"), busyboxEntries(arm64Busybox()), { Cmd: ["sh"] }, "busybox-static:arm64 (test base image)", "arm64");
}

/**
 * An OCI layout (`latest`) holding an image index with a linux/amd64 and a linux/arm64 busybox
 * image: the two-platform base the multi-platform tests build on.
 */
export async function busyboxMultiarchLayout(dir: string): Promise<string> {
  const layout = join(dir, "busybox-multiarch");
  if (existsSync(join(layout, "index.json"))) return layout;
  const amd = await readOciLayout(await oneLayerLayout(join(dir, "busybox"), busyboxEntries(), { Cmd: ["sh"] }, "busybox-static (test base image)"), { ref: "latest" });
  const arm = await readOciLayout(await busyboxArm64Layout(dir), { ref: "latest" });
  const tmp = `${layout}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const store = new FsBlobStore(join(tmp, ".store"));
  const index = await assembleIndex(store, [amd, arm]);
  await writeOciLayout([{ image: index, ref: "latest" }], { dir: join(tmp, "layout") });
  renameSync(join(tmp, "layout"), layout);
  rmSync(tmp, { recursive: true, force: true });
  return layout;
}
