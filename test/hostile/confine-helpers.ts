import { createHash, randomBytes } from "node:crypto";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync, type Stats } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { busyboxLayout } from "../helpers/busybox.ts";
import { strata, type CliResult } from "../helpers/cli.ts";

/** Both executors every attack runs against. */
export const EXECUTORS = ["sandbox", "runc"] as const;
export type ExecutorName = (typeof EXECUTORS)[number];

/**
 * A gate a RUN step waits at until the test has looked: the step polls a cache mount of its own
 * id for `go` (at most 60 s), and `open()` creates that file in the store's directory for the
 * mount (`$STRATA_HOME/v1/cache-mounts/<sha256(id)[:32]>`, as CacheMounts keeps it). A check
 * made "while the step runs" then never races the step's end on a loaded machine.
 */
export interface StepGate {
  /** The RUN flag: `--mount=type=cache,id=…,target=/gate`. */
  readonly mount: string;
  /** Shell that returns once the gate is open (or after 600 polls of 0.1 s). */
  readonly wait: string;
  /** Lets the step go on (also before it started: it then passes straight through). */
  open(): void;
}

export function stepGate(home: string): StepGate {
  const id = `confine-gate-${randomBytes(8).toString("hex")}`;
  const dir = join(home, "v1", "cache-mounts", createHash("sha256").update(id).digest("hex").slice(0, 32));
  return {
    mount: `--mount=type=cache,id=${id},target=/gate`,
    wait: "i=0; until [ -e /gate/go ] || [ $i -ge 600 ]; do i=$((i+1)); sleep 0.1; done",
    open: () => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "go"), "");
    },
  };
}

/** A host directory the build must neither read nor write: one file with unique content. */
interface Canary {
  readonly dir: string;
  readonly file: string;
  readonly content: string;
  /** The directory's names, contents and link targets now, to compare against after an attack. */
  state(): string;
}

function makeCanary(parent: string): Canary {
  const dir = join(parent, "canary");
  mkdirSync(dir, { recursive: true });
  const content = `strata-host-canary-${randomBytes(12).toString("hex")}`;
  const file = join(dir, "canary.txt");
  writeFileSync(file, `${content}\n`);
  return { dir, file, content, state: () => treeState(dir) };
}

function treeState(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const st = lstatSync(p);
      if (st.isDirectory()) {
        out.push(`${p}/`);
        walk(p);
      } else if (st.isSymbolicLink()) out.push(`${p} -> ${readlinkSync(p)}`);
      else out.push(`${p} ${st.mode.toString(8)} ${readFileSync(p, "hex")}`);
    }
  };
  walk(dir);
  return out.join("\n");
}

/** A scratch build: a context directory (with the busybox base as `./busybox`), its own store, a canary beside it. */
export interface Scratch {
  readonly root: string;
  readonly context: string;
  readonly home: string;
  readonly canary: Canary;
  build(dockerfile: string, executor: ExecutorName, extra?: readonly string[], env?: NodeJS.ProcessEnv): CliResult;
  /** Removes the scratch directory (its store included) unless something is still mounted in it. */
  cleanup(): void;
}

export async function scratch(): Promise<Scratch> {
  const root = mkdtempSync(join(tmpdir(), "strata-confine-"));
  const context = join(root, "ctx");
  const home = join(root, "home");
  mkdirSync(context);
  await busyboxLayout(context);
  const canary = makeCanary(root);
  return {
    root,
    context,
    home,
    canary,
    cleanup() {
      if (mountsUnder(root).length === 0) rmSync(root, { recursive: true, force: true });
    },
    build(dockerfile, executor, extra = [], env = {}) {
      writeFileSync(join(context, "Dockerfile"), dockerfile);
      return strata(["build", "Dockerfile", "--image", "base=oci-layout:./busybox", "--progress", "plain", "--no-cache", "--executor", executor, ...extra], {
        cwd: context,
        env: { STRATA_HOME: home, ...env },
      });
    },
  };
}

/** Files under `dir` whose bytes contain `needle` (or any of the needles; regular files only, sockets and devices are skipped). */
export function filesContaining(dir: string, needle: string | readonly string[]): string[] {
  const needles = (typeof needle === "string" ? [needle] : needle).map((n) => Buffer.from(n));
  const out: string[] = [];
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      let st: Stats;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) {
        try {
          const data = readFileSync(p);
          if (needles.some((b) => data.includes(b))) out.push(p);
        } catch {
          /* vanished, or not readable */
        }
      }
    }
  };
  walk(dir);
  return out;
}

/** Lines of the host's /etc/shadow worth looking for (hashed or locked entries), if it can be read. */
export function shadowLines(): string[] {
  try {
    return readFileSync("/etc/shadow", "utf8")
      .split("\n")
      .filter((l) => l.length > 12);
  } catch {
    return [];
  }
}

/** Mount points in this mount namespace at or below `dir`. */
export function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
}

/** Pids of processes whose command line contains `token`. */
export function processesWith(token: string): number[] {
  const out: number[] = [];
  for (const n of readdirSync("/proc")) {
    if (!/^\d+$/.test(n) || Number(n) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${n}/cmdline`).includes(Buffer.from(token))) out.push(Number(n));
    } catch {
      /* gone */
    }
  }
  return out;
}
