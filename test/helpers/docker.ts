import { execFileSync, spawnSync } from "node:child_process";

export const DOCKER = "/usr/bin/docker";

/** Whether dockerd answers (e2e tests that need it are skipped with a message when it does not). */
export function dockerAvailable(): boolean {
  return spawnSync(DOCKER, ["info"], { stdio: "ignore" }).status === 0;
}

export function docker(args: readonly string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync(DOCKER, args, { encoding: "utf8", input: opts.input, env: { ...process.env, ...opts.env }, maxBuffer: 1 << 28, stdio: ["pipe", "pipe", "pipe"] });
}

export function dockerRun(image: string, args: readonly string[] = [], extra: readonly string[] = []): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(DOCKER, ["run", "--rm", ...extra, image, ...args], { encoding: "utf8" });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Imports a layout's busybox image into dockerd under `tag` (for docker build tests FROM it). */
export function dockerImportBusybox(tag: string): void {
  const have = spawnSync(DOCKER, ["image", "inspect", tag], { stdio: "ignore" }).status === 0;
  if (have) return;
  const r = spawnSync("sh", ["-c", `set -e; d=$(mktemp -d); mkdir -p $d/bin $d/etc $d/home/app $d/root $d/tmp $d/usr/local/bin; cp /bin/busybox $d/bin/; for a in sh ash ls cat echo mkdir rm id env touch ln chmod chown sleep true false pwd wc grep sed cp mv stat find head tail date sort uname whoami test printf hostname ip ps readlink tar xargs md5sum sha256sum seq tr cut dd mount od; do ln -s busybox $d/bin/$a; done; printf 'root:x:0:0:root:/root:/bin/sh\\napp:x:1000:1000:app:/home/app:/bin/sh\\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\\n' > $d/etc/passwd; printf 'root:x:0:\\napp:x:1000:\\nstaff:x:50:app\\nnogroup:x:65534:\\n' > $d/etc/group; chown 1000:1000 $d/home/app; chmod 700 $d/root; chmod 1777 $d/tmp; tar -C $d -c . | ${DOCKER} import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'CMD ["sh"]' - ${tag} >/dev/null; rm -rf $d`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`docker import failed: ${r.stderr}`);
}
