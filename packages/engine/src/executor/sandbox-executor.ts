import { spawn } from "node:child_process";
import { chmod, lstat, mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { StrataError } from "@strata/graph";
import { HOST_PATH, runCommand, which } from "../sandbox-util/command.ts";
import { dieWithStrata } from "./die-with-strata.ts";
import { OutputSink } from "./output.ts";
import { withRunContext } from "./run-context.ts";
import { compileSeccomp } from "./seccomp/bpf.ts";
import { defaultSeccompProfile } from "./seccomp/profile.ts";
import { X86_64 } from "./seccomp/syscall-numbers.ts";
import { buildSandboxScript, type SandboxSeccomp, type SandboxTools } from "./sandbox-script.ts";
import { DEVICES, MASKED_PATHS, READONLY_PATHS } from "./security-profile.ts";
import { abortedError, killPid, pipeStdin, signalPid, supervise, toExecResult, type Supervised } from "./supervise.ts";
import type { ExecIO, ExecResult, ExecSpec, Executor } from "./types.ts";

/** The namespaces of a step (and of the probe that checks this host can make them); the step's init dies last. */
const UNSHARE_NAMESPACES = ["--mount", "--pid", "--ipc", "--uts", "--fork", "--kill-child"] as const;

export interface SandboxExecutorOptions {
  /** Where runs keep their private files (scripts, generated /etc files, a /dev template). */
  readonly stateDir: string;
}

/**
 * Runs steps with nothing but util-linux, coreutils and /bin/sh on the host: `unshare` for the
 * mount, pid, ipc and uts namespaces, `nsenter` to join the run's network namespace, `mount` for the step's view
 * of the file system, `setpriv` + `unshare --root` to drop capabilities, change ids and enter
 * the root (see {@link buildSandboxScript}), and perl to load Docker's default seccomp filter,
 * compiled to BPF by Strata (x86_64). Needs root. No cgroup limits. Where the filter cannot be
 * applied (no perl, another architecture) it runs without one, and `--executor auto` does not
 * choose it ({@link SandboxExecutor.appliesSeccomp}).
 */
export class SandboxExecutor implements Executor {
  readonly name = "sandbox" as const;
  readonly #stateDir: string;
  #available: Promise<boolean> | undefined;
  #tools: Promise<SandboxTools> | undefined;
  #devTemplate: Promise<string> | undefined;
  #masked: Promise<{ files: string[]; dirs: string[]; readonly: string[] }> | undefined;

  constructor(opts: SandboxExecutorOptions) {
    this.#stateDir = opts.stateDir;
  }

  available(): Promise<boolean> {
    this.#available ??= this.#probe();
    return this.#available;
  }

  /**
   * Whether steps here get Docker's default seccomp filter: Strata compiles it for x86_64 and
   * loads it with perl. Without it the sandbox still runs when named (`--executor sandbox`),
   * but `--executor auto` does not choose it.
   */
  async appliesSeccomp(): Promise<boolean> {
    const tools = await this.#getTools().catch(() => undefined);
    return !!tools?.perl && seccompFilter() !== undefined;
  }

  async #probe(): Promise<boolean> {
    if (process.getuid?.() !== 0) return false;
    let tools: SandboxTools;
    try {
      tools = await this.#getTools();
    } catch {
      return false;
    }
    const t = await which("true");
    if (!t) return false;
    const r = await runCommand([
      tools.unshare,
      ...UNSHARE_NAMESPACES,
      "--",
      tools.setpriv,
      "--bounding-set=-all,+sys_chroot,+setuid,+setgid",
      "--regid=0",
      "--clear-groups",
      "--",
      tools.unshare,
      "--root=/",
      "--wd=/",
      "--",
      t,
    ]).catch(() => undefined);
    return r?.code === 0;
  }

  #getTools(): Promise<SandboxTools> {
    this.#tools ??= (async () => {
      const need = async (name: string, pkg: string) => {
        const p = await which(name);
        if (!p) {
          throw new StrataError("STRATA_RUN_TOOL_MISSING", `the sandbox executor needs ${name} on the host`, {
            hint: `install ${pkg}, or use --executor runc`,
          });
        }
        return p;
      };
      return {
        sh: await need("sh", "a POSIX shell"),
        mount: await need("mount", "util-linux"),
        unshare: await need("unshare", "util-linux"),
        setpriv: await need("setpriv", "util-linux (setpriv)"),
        mkdir: await need("mkdir", "coreutils"),
        env: await need("env", "coreutils"),
        nsenter: await need("nsenter", "util-linux"),
        perl: await which("perl"),
      };
    })();
    return this.#tools;
  }

  async run(spec: ExecSpec, io: ExecIO = {}): Promise<ExecResult> {
    if (io.signal?.aborted) throw abortedError(io.signal);
    if (io.container?.terminal) {
      throw new StrataError("STRATA_RUN_TTY_UNSUPPORTED", "the sandbox executor cannot give a container a terminal (-t)", {
        hint: "install runc (or crun) and use --executor auto or runc, or run without -t",
      });
    }
    const tools = await this.#getTools();
    const devTemplate = await this.#getDevTemplate();
    const masked = await this.#getMasked();
    return withRunContext(this.#stateDir, spec, async (ctx) => {
      const filter = spec.security === "insecure" ? undefined : seccompFilter();
      let seccomp: SandboxSeccomp | undefined;
      if (filter && tools.perl) {
        seccomp = { perl: tools.perl, filter: join(ctx.dir, "seccomp.bpf"), prctlNr: X86_64.prctl! };
        await writeFile(seccomp.filter, filter, { mode: 0o600 });
      }
      // BuildKit's insecure mode is `--privileged`: nothing masked (as in the runc config).
      const shown = spec.security === "insecure" ? { files: [], dirs: [], readonly: [] } : masked;
      const { files, scriptPath } = buildSandboxScript(spec, ctx, tools, devTemplate, shown, seccomp);
      for (const [name, content] of files) await writeFile(join(ctx.dir, name), content, { mode: 0o600 });
      // The network namespace is joined first, so the step's namespaces are owned by the same user namespace.
      const enter = ctx.netnsPath ? [tools.nsenter, `--net=${ctx.netnsPath}`, "--", tools.unshare] : [tools.unshare];
      const args = [
        ...enter.slice(1),
        ...UNSHARE_NAMESPACES,
        "--",
        tools.sh,
        scriptPath,
      ];
      // The sandbox dies with strata: unshare gets SIGKILL when strata dies, its child (the
      // namespace's init, `--kill-child`) then too, and with it every process of the namespace.
      const [cmd, ...argv] = await dieWithStrata([enter[0]!, ...args]);
      const child = spawn(cmd!, argv, {
        // Only the host tools see this environment; the step gets exactly spec.env via `env -i`.
        // LIBMOUNT_UTAB keeps libmount's bookkeeping in the run directory instead of /run/mount.
        env: { PATH: HOST_PATH, LC_ALL: "C", LIBMOUNT_UTAB: join(ctx.dir, "utab") },
        stdio: [io.container?.stdin ? "pipe" : "ignore", "pipe", "pipe", "pipe"],
        // A container gets its own session: Ctrl-C reaches the caller only, which forwards it.
        detached: io.container !== undefined,
      });
      if (io.container) {
        pipeStdin(io.container.stdin, child);
        // unshare --fork does not forward signals: they go to its child, the namespace's init.
        io.container.onStarted?.({ signal: (sig) => void signalChildren(child.pid, sig) });
      }
      let status = "";
      const statusDone = new Promise<void>((resolve) => {
        const s = child.stdio[3] as NodeJS.ReadableStream;
        s.on("data", (b: Buffer) => (status += b.toString()));
        s.on("end", resolve);
        s.on("error", () => resolve());
      });
      // util-linux unshare re-raises the signal that killed its child on itself, except SIGKILL,
      // whose disposition cannot be reset: then it prints this line and exits 1.
      const killedMarker = /^unshare: sigprocmask unblock failed/;
      let killedBySigkill = false;
      const onStderr = io.onStderr;
      const rawStderr = io.container?.onStderrData;
      const sink = new OutputSink({
        ...io,
        onStderr: (line) => {
          if (killedMarker.test(line)) killedBySigkill = true;
          else onStderr?.(line);
        },
        ...(io.container
          ? {
              container: {
                ...io.container,
                ...(rawStderr
                  ? {
                      onStderrData: (b: Buffer) => {
                        const text = b.toString("latin1");
                        const m = /^unshare: sigprocmask unblock failed[^\n]*\n?/m.exec(text);
                        if (!m) return rawStderr(b);
                        killedBySigkill = true;
                        const rest = text.slice(0, m.index) + text.slice(m.index + m[0].length);
                        if (rest !== "") rawStderr(Buffer.from(rest, "latin1"));
                      },
                    }
                  : {}),
              },
            }
          : {}),
      });
      let r: Supervised;
      try {
        r = await supervise(child, sink, io.signal, () => killNamespace(child.pid, () => child.exitCode !== null || child.signalCode !== null));
        await statusDone;
      } finally {
        await sink.close();
      }
      if (r.aborted) throw abortedError(io.signal);
      if (!status.includes("ok")) {
        const err = await readFile(join(ctx.dir, "setup.err"), "utf8").catch(() => "");
        const detail = (err.trim() || sink.stderrTail().join("\n")).trim();
        throw new StrataError("STRATA_RUN_SETUP_FAILED", `the sandbox could not be set up: ${detail || `exit ${r.code ?? r.signal}`}`, {
          hint: "the built-in sandbox needs root, util-linux (unshare, mount, setpriv) and mount namespaces; try --executor runc",
        });
      }
      const last = sink.stderrTail().at(-1) ?? "";
      if ((r.code === 126 || r.code === 127) && last.startsWith("unshare: failed to execute ")) {
        throw new StrataError("STRATA_RUN_EXEC_FAILED", `cannot start ${JSON.stringify(spec.argv[0])}: ${last.replace(/^unshare: failed to execute /, "")}`, {
          hint: "the command must exist in the image (looked up on the step's PATH)",
        });
      }
      if (killedBySigkill && r.code === 1) return { exitCode: 137, signal: "SIGKILL" };
      return toExecResult(r);
    });
  }

  /** Device nodes and /dev symlinks made once with mknod, then bound read-only as each run's /dev. */
  #getDevTemplate(): Promise<string> {
    this.#devTemplate ??= makeDevTemplate(this.#stateDir).catch((e: unknown) => {
      this.#devTemplate = undefined;
      throw e;
    });
    return this.#devTemplate;
  }

  #getMasked(): Promise<{ files: string[]; dirs: string[]; readonly: string[] }> {
    this.#masked ??= (async () => {
      const files: string[] = [];
      const dirs: string[] = [];
      const ro: string[] = [];
      for (const p of MASKED_PATHS) {
        const st = await lstat(p).catch(() => undefined);
        if (st?.isDirectory()) dirs.push(p);
        else if (st) files.push(p);
      }
      for (const p of READONLY_PATHS) if (await lstat(p).catch(() => undefined)) ro.push(p);
      return { files, dirs, readonly: ro };
    })();
    return this.#masked;
  }
}

let compiled: Buffer | null | undefined;

/**
 * Docker's default profile as BPF for this machine, compiled once; undefined where Strata has no
 * syscall table. One addition: `unshare(0)`, a no-op, because util-linux's `unshare --root`
 * (which chroots into the step's root after the filter is loaded) makes that call; any flag
 * is still refused.
 */
function seccompFilter(): Buffer | undefined {
  if (compiled === undefined) {
    const docker = defaultSeccompProfile();
    const unshareNoop = { names: ["unshare"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 0, op: "SCMP_CMP_EQ" }] } as const;
    compiled = compileSeccomp({ ...docker, syscalls: [...docker.syscalls, unshareNoop] }) ?? null;
  }
  return compiled ?? undefined;
}

async function makeDevTemplate(stateDir: string): Promise<string> {
  const final = join(stateDir, "dev-template");
  if (await isValidTemplate(final)) return final;
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const mknod = await which("mknod");
  if (!mknod) throw new StrataError("STRATA_RUN_TOOL_MISSING", "the sandbox executor needs mknod (coreutils)");
  const tmp = await mkdtemp(join(stateDir, "dev-template.tmp-"));
  try {
    // `cp -a template/. dev/` also copies the directory's own mode onto the tmpfs root.
    await chmod(tmp, 0o755);
    for (const [name, major, minor] of DEVICES) {
      const r = await runCommand([mknod, "-m", "666", join(tmp, name), "c", String(major), String(minor)]);
      if (r.code !== 0) throw new StrataError("STRATA_RUN_SETUP_FAILED", `mknod ${name}: ${r.stderr.trim()}`);
    }
    for (const d of ["pts", "shm", "mqueue"]) await mkdir(join(tmp, d), { mode: 0o755 });
    await symlink("pts/ptmx", join(tmp, "ptmx"));
    await symlink("/proc/self/fd", join(tmp, "fd"));
    await symlink("/proc/self/fd/0", join(tmp, "stdin"));
    await symlink("/proc/self/fd/1", join(tmp, "stdout"));
    await symlink("/proc/self/fd/2", join(tmp, "stderr"));
    // A stale, broken template is replaced; a valid one made concurrently by another process wins.
    if (!(await isValidTemplate(final))) await rm(final, { recursive: true, force: true });
    await rename(tmp, final).catch(async (e: unknown) => {
      if (!(await isValidTemplate(final))) throw e;
    });
    return final;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function isValidTemplate(dir: string): Promise<boolean> {
  const st = await lstat(join(dir, "null")).catch(() => undefined);
  const stderr = await lstat(join(dir, "stderr")).catch(() => undefined);
  return !!st && st.isCharacterDevice() && st.rdev === 0x103 && !!stderr?.isSymbolicLink();
}

/**
 * Kills the namespace's init (the forked child of `unshare`): the kernel then kills every
 * process in the pid namespace, and `unshare` exits. Repeats until `unshare` is gone, which
 * also covers an abort that comes before the child was forked.
 */
async function killNamespace(pid: number | undefined, exited: () => boolean): Promise<void> {
  if (pid === undefined) return;
  const deadline = Date.now() + 5000;
  while (!exited()) {
    const kids = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
    for (const k of kids.split(/\s+/).filter((s) => s !== "")) killPid(Number(k));
    if (Date.now() > deadline) killPid(pid);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Signals the children of `unshare --fork` (the namespace's init), not `unshare` itself. */
async function signalChildren(pid: number | undefined, sig: NodeJS.Signals): Promise<void> {
  if (pid === undefined) return;
  const kids = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  for (const k of kids.split(/\s+/).filter((s) => s !== "")) signalPid(Number(k), sig);
}
