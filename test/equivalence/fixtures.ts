import { execFileSync } from "node:child_process";
import { chmodSync, linkSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * One image built by both engines. Each fixture is a directory of the harness project holding
 * `image.image.ts` (its own build context); the busybox base is the OCI layout `../busybox`.
 */
export interface Fixture {
  readonly name: string;
  /** What it exercises (the table's second column). */
  readonly what: string;
  readonly module?: string;
  readonly files?: Readonly<Record<string, string>>;
  /** Makes what text files cannot say: modes, symlinks, hard links, archives. */
  readonly setup?: (dir: string) => void;
  /** Extra `strata build` arguments for both engines (`{dir}` is the fixture directory). */
  readonly args?: readonly string[];
  /** Mount targets of its RUN steps (docker 20.10 leaves them as empty dirs: see mountStubs). */
  readonly mountTargets?: readonly string[];
  /** Build an existing image module instead (relative to the repository). */
  readonly existing?: string;
}

const IMPORTS = `import { bind, cache, context, dockerDaemon, file, from, ociLayout, scratch, script, secret, sh, stageFor, tmpfs, arg, TARGETOS } from "@strata/core";\nconst base = from(ociLayout("../busybox"));\n`;

const TEXT = { "a.txt": "alpha\n", "b.txt": "bravo\n", "src/one.txt": "one\n", "src/two.txt": "two\n", "src/skip.md": "# no\n" };

function tree(dir: string): void {
  mkdirSync(join(dir, "tree/bin"), { recursive: true });
  mkdirSync(join(dir, "tree/private"), { recursive: true });
  mkdirSync(join(dir, "tree/empty"), { recursive: true });
  writeFileSync(join(dir, "tree/bin/run.sh"), "#!/bin/sh\necho run\n");
  chmodSync(join(dir, "tree/bin/run.sh"), 0o755);
  writeFileSync(join(dir, "tree/secret"), "s3\n");
  chmodSync(join(dir, "tree/secret"), 0o600);
  writeFileSync(join(dir, "tree/private/p"), "p\n");
  chmodSync(join(dir, "tree/private"), 0o700);
  chmodSync(join(dir, "tree/empty"), 0o750);
}

function archive(dir: string, name: string, gzip: boolean): void {
  const src = join(dir, "payload-src");
  mkdirSync(join(src, "etc/app"), { recursive: true });
  writeFileSync(join(src, "etc/app/app.conf"), "port=80\n");
  writeFileSync(join(src, "run"), "#!/bin/sh\n");
  chmodSync(join(src, "run"), 0o750);
  symlinkSync("etc/app/app.conf", join(src, "conf"));
  execFileSync("tar", ["-C", src, gzip ? "-czf" : "-cf", join(dir, name), "--owner=123", "--group=456", "--numeric-owner", "--mtime=2001-01-01", "."]);
}

export const FIXTURES: readonly Fixture[] = [
  { name: "hello", what: "examples/hello (scratch, COPY --chmod, label, entrypoint)", existing: "examples/hello/hello.image.ts" },
  { name: "copy-file", what: "COPY a file to a new path", files: TEXT, module: `export default base.copy("a.txt", "/app/a.txt");` },
  { name: "copy-dir", what: "COPY a directory (modes 0755/0600/0700/0750, empty dir)", setup: tree, module: `export default base.copy("tree", "/srv/tree");` },
  { name: "copy-context", what: "COPY . (the whole context)", files: TEXT, setup: tree, module: `export default base.copy(".", "/ctx/");` },
  { name: "copy-glob", what: "COPY with wildcards, several sources", files: TEXT, module: `export default base.copy("src/*.txt", "/data/").copy(["a.txt", "b.txt"], "/multi/");` },
  {
    name: "copy-chown-chmod",
    what: "COPY --chown (names, ids) --chmod (octal)",
    files: TEXT,
    setup: tree,
    module: `export default base.copy("a.txt", "/home/app/a", { chown: "app:staff", chmod: 0o640 }).copy("tree", "/t", { chown: 1000 }).copy("b.txt", "/b", { chmod: "755" });`,
  },
  {
    name: "copy-symlinks",
    what: "symlinks in a copied directory kept; a symlink source followed",
    files: TEXT,
    setup: (d) => {
      mkdirSync(join(d, "dir"));
      symlinkSync("../a.txt", join(d, "dir/rel"));
      symlinkSync("/etc/passwd", join(d, "dir/abs"));
      symlinkSync("a.txt", join(d, "link-to-a"));
    },
    module: `export default base.copy("dir", "/d").copy("link-to-a", "/followed");`,
  },
  {
    name: "copy-hardlinks",
    what: "hard links inside a copied directory",
    setup: (d) => {
      mkdirSync(join(d, "h"));
      writeFileSync(join(d, "h/one"), "same inode\n");
      linkSync(join(d, "h/one"), join(d, "h/two"));
    },
    module: `export default base.copy("h", "/h");`,
  },
  { name: "copy-existing-dirs", what: "COPY into existing dirs (/tmp 1777, /home/app 1000) keeps their metadata", files: TEXT, module: `export default base.copy("a.txt", "/tmp/").copy("b.txt", "/home/app/");` },
  { name: "copy-parents", what: "COPY to a deep new path creates the parents", files: TEXT, module: `export default base.copy("a.txt", "/etc/app/conf.d/x.conf").copy("src", "/opt/lib/src");` },
  { name: "add-tar", what: "ADD of a tar archive unpacks it (owners, modes, symlink)", setup: (d) => archive(d, "payload.tar", false), module: `export default base.add("payload.tar", "/opt/payload/");` },
  { name: "add-tar-gz", what: "ADD of a gzip tar archive", setup: (d) => archive(d, "payload.tgz", true), module: `export default base.add("payload.tgz", "/opt/");` },
  { name: "add-plain", what: "ADD of files and a directory (no archive)", files: TEXT, setup: tree, module: `export default base.add("a.txt", "/added/").add("tree", "/added/tree");` },
  {
    name: "context-exclude",
    what: "context() with exclude patterns",
    files: { ...TEXT, "debug.log": "log\n", "cache/x": "x\n", "keep/y.log": "y\n" },
    module: `const src = context(".", { exclude: ["*.log", "cache"] });\nexport default base.copy(src, "/app");`,
  },
  {
    name: "context-include",
    what: "context() with include patterns",
    files: { ...TEXT, "other/z": "z\n" },
    module: `const src = context(".", { include: ["src", "*.txt"] });\nexport default base.copy(src, "/app");`,
  },
  {
    name: "run-files",
    what: "RUN creating files, modes, setuid, symlink, hard link, owners",
    module: `export default base.run("mkdir -p /out/d && echo f > /out/f && chmod 4755 /out/f && ln -s f /out/s && ln /out/f /out/h && chown 1000:50 /out/d && chmod 0700 /out/d && touch /out/d/e");`,
  },
  {
    name: "run-whiteouts",
    what: "RUN deleting base files and dirs, replacing a dir (whiteouts, opaque)",
    module: `export default base.run("rm /etc/group && rm -r /usr/local && mkdir -p /usr/local/new && echo n > /usr/local/new/f").run("echo t > /tmp/t && mkdir /gone && touch /gone/x").run("rm /tmp/t && rm -r /gone && rm /bin/tar && ln -s busybox /bin/tar2");`,
  },
  {
    name: "run-multiline",
    what: "multi-line shell scripts (heredoc, or exec form on docker 20.10)",
    module: `export default base.run("echo one > /one\\necho two > /two\\n").run("a=3\\necho $a > /three");`,
  },
  { name: "run-exec-form", what: "RUN in exec form", module: `export default base.run(["/bin/sh", "-c", "echo exec > /exec"]).run(["touch", "/touched"]);` },
  {
    name: "run-user",
    what: "RUN as a named user and as uid:gid",
    module: `export default base.user("app").run("id > /home/app/id && touch /home/app/mine").user("1000:50").run("touch /tmp/g && id -g > /tmp/gid");`,
  },
  {
    name: "workdir",
    what: "WORKDIR absolute, relative, created for a non-root user",
    module: `export default base.workdir("/srv/app").workdir("sub").run("pwd > here").user("app").workdir("/data/app").run("touch mine");`,
  },
  {
    name: "env-args",
    what: "ARG defaults and --build-arg, ENV expansion in RUN and COPY",
    files: TEXT,
    args: ["--build-arg", "GREETING=hi"],
    module: `const GREETING = arg("GREETING", "hello");\nexport default base.arg(GREETING).env({ NAME: "world", DEST: "/dest" }).env("MSG", "$GREETING $NAME").run("echo $MSG > /msg && echo $GREETING > /greeting").copy("a.txt", "$DEST/");`,
  },
  {
    name: "multi-stage",
    what: "a build stage copied from (COPY --from, --chown)",
    module: `const build = base.workdir("/src").run("mkdir out && echo bin > out/app && chmod 755 out/app && echo lib > out/lib");\nexport default base.copy(build.path("/src/out"), "/app", { chown: "app" }).cmd(["/app/app"]);`,
  },
  {
    name: "scratch-final",
    what: "scratch image from another image's file and the context",
    files: TEXT,
    module: `export default scratch().copy(base.path("/bin/busybox"), "/busybox").copy("a.txt", "/a.txt").entrypoint(["/busybox", "cat", "/a.txt"]);`,
  },
  {
    name: "mount-cache",
    what: "RUN --mount=type=cache (contents never in a layer)",
    mountTargets: ["/var/cache/app"],
    module: `export default base.run("echo x >> /var/cache/app/log && cp /var/cache/app/log /seen", { mounts: [cache("/var/cache/app", { id: "eq-cache" })] });`,
  },
  {
    name: "mount-secret",
    what: "RUN --mount=type=secret (required; only its size reaches the image)",
    files: { token: "sup3r-s3cret\n" },
    args: ["--secret", "id=tok,src={dir}/token"],
    mountTargets: ["/run/secrets/tok"],
    module: `export default base.run("wc -c < /run/secrets/tok > /secret-size", { mounts: [secret("tok", { required: true })] });`,
  },
  {
    name: "mount-bind",
    what: "RUN --mount=type=bind from the context and from a stage",
    files: TEXT,
    mountTargets: ["/mnt/ctx", "/mnt/stage"],
    module: `const stage = base.run("mkdir /out && echo staged > /out/f");\nexport default base.run("cp /mnt/ctx/a.txt /from-ctx && cat /mnt/stage/f > /from-stage", { mounts: [bind(context().path("."), "/mnt/ctx"), bind(stage.path("/out"), "/mnt/stage")] });`,
  },
  { name: "mount-tmpfs", what: "RUN --mount=type=tmpfs", mountTargets: ["/scratchpad"], module: `export default base.run("echo t > /scratchpad/t && ls /scratchpad > /listing", { mounts: [tmpfs("/scratchpad")] });` },
  {
    name: "config-only",
    what: "ENV LABEL EXPOSE VOLUME CMD ENTRYPOINT STOPSIGNAL SHELL ONBUILD USER",
    module: `export default base.env({ A: "1", B: "two words" }).label({ "org.example.a": "x", b: "y z" }).expose(80, "53/udp").volume("/data").entrypoint(["/bin/sh", "-c"]).cmd(["echo hi"]).stopSignal("SIGINT").shell(["/bin/sh", "-ec"]).onbuild("RUN echo child").user("app");`,
  },
  {
    name: "healthcheck",
    what: "HEALTHCHECK exec form with every option",
    module: `export default base.healthcheck(["wget", "-q", "-O-", "http://localhost/"], { interval: "30s", timeout: "5s", startPeriod: "10s", retries: 3 });`,
  },
  { name: "healthcheck-shell", what: "HEALTHCHECK shell form", module: `export default base.healthcheck(sh("test -f /ok"), { interval: "1m30s" });` },
  { name: "healthcheck-none", what: "HEALTHCHECK NONE after a check", module: `export default base.healthcheck(sh("true")).healthcheck("none").cmd(sh("echo shell form"));` },
  { name: "shell-run", what: "SHELL then a multi-line RUN under it", module: `export default base.shell(["/bin/sh", "-ec"]).run("echo a > /a\\necho b > /b");` },
  { name: "script", what: "run(script(…)): a #! script run as a program", module: `export default base.run(script("#!/bin/sh\\necho from-script > /script-out\\nid -u >> /script-out\\n"));` },
  {
    name: "inline-file",
    what: "file(): inline content (heredoc, or a context file on docker 20.10)",
    module: `export default base.copy(file("app.conf", "listen 80\\n$HOME stays literal\\n"), "/etc/app/").copy(file("hi.sh", "#!/bin/sh\\necho hi\\n", { mode: 0o755 }), "/usr/local/bin/");`,
  },
  { name: "link-on-scratch", what: "COPY --link onto scratch (dropped on docker 20.10: same layer)", files: TEXT, setup: tree, module: `export default scratch().copy("tree", "/tree", { link: true }).copy("a.txt", "/a.txt");` },
  {
    name: "dockerignore-file",
    what: "a .dockerignore in the context is a file, not a filter",
    files: { ...TEXT, ".dockerignore": "a.txt\n" },
    module: `export default base.copy(".", "/ctx");`,
  },
  {
    name: "exclude-exception",
    what: "exclude a directory but re-include files in it (docker 20.10's CLI would not)",
    files: { ...TEXT, "dir/keep.txt": "k\n", "dir/x": "x\n", "dir/sub/keep.txt": "k2\n" },
    module: `export default base.copy(context(".", { exclude: ["dir", "!**/keep.txt"] }), "/w/");`,
  },
  { name: "copy-chown-parents", what: "COPY --chown to a path whose parents are created", files: TEXT, module: `export default base.copy("a.txt", "/new/deep/a", { chown: "app" }).copy("src", "/made/src/", { chown: "1000:50" });` },
  { name: "copy-dir-onto-existing", what: "COPY a directory onto an existing one (/home/app, 1000:1000)", setup: tree, module: `export default base.copy("tree", "/home/app");` },
  {
    name: "copy-through-symlink",
    what: "COPY to a destination under a symlinked directory",
    files: TEXT,
    module: `export default base.run("mkdir /real && ln -s /real /link").copy("a.txt", "/link/").copy("b.txt", "/link/sub/b.txt");`,
  },
  {
    name: "run-replace",
    what: "RUN replacing a file by a dir and a dir by a file; a metadata-only change",
    module: `export default base.run("mkdir /d && touch /f && echo x > /d/x").run("rm /f && mkdir /f && rm -r /d && echo now-a-file > /d && chmod 600 /etc/passwd && chown 1000 /etc/group");`,
  },
  {
    name: "run-created-and-deleted",
    what: "RUN creating and deleting in one step leaves no trace",
    module: `export default base.run("mkdir -p /tmp/work/a && echo x > /tmp/work/a/b && rm -r /tmp/work && touch /kept");`,
  },
  { name: "run-exec-env", what: "exec-form RUN sees ENV but expands nothing", module: `export default base.env("FOO", "bar").run(["sh", "-c", "echo $FOO > /foo"]).run(["/bin/echo", "$FOO"]);` },
  {
    name: "stage-chain",
    what: "a stage built on another stage, copied from",
    module: `const a = base.env("STAGE", "a").workdir("/w").run("echo $STAGE > a");
const b = from(a).env("STAGE", "b").run("echo $STAGE > b");
export default base.copy(b.path("/w"), "/w").env("FINAL", "1");`,
  },
  {
    name: "env-simultaneous",
    what: "several ENV in one step read the previous values; labels from env",
    module: `export default base.env("A", "0").env({ A: "1", B: "$A-2" }).label("from-env", "$B").run("echo $A $B > /ab");`,
  },
  {
    name: "mount-cache-options",
    what: "cache mount with uid, gid, mode, locked sharing, used by a non-root user",
    mountTargets: ["/cache"],
    module: `export default base.user("app").run("echo hi > /cache/f && stat -c '%a %u %g %n' /cache /cache/f > /tmp/listing", { mounts: [cache("/cache", { id: "eq-opts", uid: 1000, gid: 1000, mode: 0o700, sharing: "locked" })] });`,
  },
  {
    name: "mount-bind-rw",
    what: "a read-write bind mount: writes are discarded",
    files: TEXT,
    mountTargets: ["/m"],
    module: `export default base.run("echo changed > /m/a.txt && cat /m/a.txt > /seen", { mounts: [bind(context().path("."), "/m", { readwrite: true })] });`,
  },
  {
    name: "user-group",
    what: "USER name:group and COPY --chown uid:gid",
    files: TEXT,
    module: `export default base.user("app:staff").run("id > /tmp/id").copy("a.txt", "/home/app/a", { chown: "1000:50" }).workdir("/home/app/w");`,
  },
  {
    name: "run-links-and-specials",
    what: "RUN: hard link to a lower layer's file, fifo, char device, setgid/sticky dirs",
    module: `export default base.run("ln /bin/busybox /bb && busybox mkfifo /fifo && busybox mknod /null2 c 1 3 && mkdir /sg /st && chmod 2775 /sg && chmod 1777 /st");`,
  },
  {
    name: "copy-odd-names",
    what: "COPY of names with spaces, non-ASCII, and over 100 bytes",
    files: { "with space.txt": "s\n", "ünïcödé.txt": "u\n", [`${"long-name-".repeat(12)}.txt`]: "l\n" },
    module: `export default base.copy("with space.txt", "/odd/with space.txt").copy("ünïcödé.txt", "/odd/").copy("${"long-name-".repeat(12)}.txt", "/odd/deep/${"dir-".repeat(30)}/");`,
  },
  {
    name: "stage-for",
    what: "stageFor(TARGETOS, …): only the picked stage is built; its files, ENV and USER carry over",
    module: `const linux = base.env("OS", "linux").user("app").run("echo linux > /tmp/os");
const windows = base.run("echo windows > /tmp/os && false");
export default stageFor(TARGETOS, { linux, windows }).run("cat /tmp/os > /tmp/picked && echo $OS > /tmp/env && id -u > /tmp/uid");`,
  },
  {
    name: "context-subdir",
    what: "context(\"src\"): a subdirectory of the build context, whole and one file",
    files: TEXT,
    module: `export default base.copy(context("src"), "/s/").copy(context("src").path("one.txt"), "/one").copy(context("./src/").files("*.txt"), "/globbed/");`,
  },
  {
    name: "context-subdir-filtered",
    what: "context(\"src\", { exclude }): a filtered subdirectory is the build's context",
    files: TEXT,
    module: `export default base.copy(context("src", { exclude: ["*.md"] }), "/w/");`,
  },
  { name: "docker-daemon-base", what: "dockerDaemon(…) base image (already in the daemon)", files: TEXT, module: `export default from(dockerDaemon("strata-eq/busybox:1")).copy("a.txt", "/a").run("cat /a > /b");` },
];

/** The fixture's `.image.ts` source. */
export function moduleSource(f: Fixture): string {
  return `${IMPORTS}${f.module ?? ""}\n`;
}
