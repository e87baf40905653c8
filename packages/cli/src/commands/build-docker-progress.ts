import { opDigest, resolveLocation, sha256Digest, type Digest, type SourceLocation, type Step } from "@strata/graph";
import type { ExportResult } from "@strata/dockerfile";
import type { ProgressSink } from "@strata/engine";

/** One BuildKit vertex (`#N name`) as the plain progress output shows it. */
export interface Vertex {
  readonly n: number;
  readonly name: string;
  readonly id: Digest;
  /** The graph step it builds, when the name says which (`[stage k/total] …`). */
  readonly step: Step | undefined;
  readonly location: SourceLocation | undefined;
  /** Output of the step (timestamps dropped), and status lines. */
  readonly logs: string[];
  started: boolean;
  state: "running" | "done" | "cached" | "error" | "canceled";
  error?: string;
}

/**
 * `[stage 2/5] RUN …`, `[2/5] RUN …` (a single stage has no name). BuildKit pads the step number
 * to the width of the total (`[stage-2  1/10] …`, `[ 1/10] …`), and puts the platform first
 * when it builds several (`[linux/arm64 stage 2/5] …`; stage names never hold a `/`).
 */
const NUMBERED = /^\[(?:[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)? )?(?:([^\s/]+) )? *(\d+)\/(\d+)\] /;
/** Vertices of BuildKit's own bookkeeping that say nothing a user needs while all goes well. */
const QUIET = /^\[internal\] load (build definition|\.dockerignore)/;

/**
 * Turns `docker build --progress=plain` output into Strata's progress events, and keeps what an
 * error report needs. BuildKit prints `#N name` when a vertex starts (and again when its output
 * resumes after another vertex's), `#N 0.203 text` for output, `#N DONE 1.2s`, `#N CACHED`,
 * `#N ERROR: …`; after a failure, a summary of the failed step and the error itself, unnumbered.
 * Step names map back to graph steps through the stage name and BuildKit's step number.
 */
export class PlainProgress {
  readonly vertices = new Map<number, Vertex>();
  /** Unnumbered lines (the error summary), in order. */
  readonly tail: string[] = [];
  private partial = "";
  private continuing: (Vertex & { error: string }) | undefined;

  constructor(
    private readonly exported: Pick<ExportResult, "stages" | "numberedSteps" | "stageSources">,
    private readonly sink: ProgressSink,
    private readonly now: () => number,
  ) {}

  push(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split("\n");
    this.partial = lines.pop() ?? "";
    for (const l of lines) this.line(l.replace(/\r$/, ""));
  }

  end(): void {
    if (this.partial) this.line(this.partial);
    this.partial = "";
  }

  /** The first vertex that failed. */
  failed(): Vertex | undefined {
    for (const v of this.vertices.values()) if (v.state === "error") return v;
    return undefined;
  }

  line(line: string): void {
    const m = /^#(\d+) (.*)$/.exec(line);
    if (!m) {
      // An error message with newlines (a multi-line command in it) goes on unnumbered.
      if (this.continuing && line !== "------") {
        this.continuing.error += `\n${line}`;
        return;
      }
      this.continuing = undefined;
      if (line.trim() !== "") this.tail.push(line);
      return;
    }
    this.continuing = undefined;
    const n = Number(m[1]);
    const text = m[2]!;
    let v = this.vertices.get(n);
    if (!v) {
      const { step, location } = this.resolve(text);
      v = { n, name: text, id: step?.op ? opDigest(step.op) : sha256Digest(`docker-vertex:${n}:${text}`), step, location, logs: [], started: false, state: "running" };
      this.vertices.set(n, v);
      return;
    }
    if (text === v.name || /^sha256:[0-9a-f]{64}$/.test(text)) return;
    const at = this.now();
    if (text === "CACHED") {
      v.state = "cached";
      if (!QUIET.test(v.name)) this.sink({ type: "step-cached", at, id: v.id, name: v.name });
      return;
    }
    this.start(v, at);
    const done = /^DONE (\d+(?:\.\d+)?)s$/.exec(text);
    if (done) {
      v.state = "done";
      if (!QUIET.test(v.name)) this.sink({ type: "step-done", at, id: v.id, name: v.name, cached: false, ms: Math.round(Number(done[1]) * 1000) });
      return;
    }
    if (text.startsWith("ERROR")) {
      v.state = "error";
      v.error = text.replace(/^ERROR:?\s*/, "");
      this.continuing = v as Vertex & { error: string };
      this.sink({ type: "step-error", at, id: v.id, name: v.name, message: v.error });
      return;
    }
    if (text === "CANCELED") {
      v.state = "canceled";
      return;
    }
    // `0.203 output` is the step's output; anything else is a status line (transfers, exports).
    const log = /^\d+\.\d+ (.*)$/.exec(text);
    const out = log ? log[1]! : text;
    v.logs.push(out);
    if (!QUIET.test(v.name)) this.sink({ type: "step-log", at, id: v.id, stream: "stdout", line: out });
  }

  private start(v: Vertex, at: number): void {
    if (v.started) return;
    v.started = true;
    if (QUIET.test(v.name)) return;
    this.sink({ type: "step-start", at, id: v.id, name: v.name, ...(v.location ? { location: v.location } : {}) });
  }

  /** The graph step of a vertex name: stage by name (`stage-K` when unnamed), step by number. */
  resolve(name: string): { step: Step | undefined; location: SourceLocation | undefined } {
    const m = NUMBERED.exec(name);
    if (!m) return { step: undefined, location: undefined };
    const stages = this.exported.stages;
    const prefix = m[1];
    let stage: number;
    if (prefix === undefined) stage = stages.length === 1 ? 0 : -1;
    else {
      stage = stages.indexOf(prefix);
      const unnamed = /^stage-(\d+)$/.exec(prefix);
      if (stage < 0 && unnamed) stage = Number(unnamed[1]);
    }
    const k = Number(m[2]);
    const total = Number(m[3]);
    if (stage < 0 || stage >= stages.length) return { step: undefined, location: undefined };
    // BuildKit counts FROM as step 1 when the stage starts from an image; not FROM scratch, and
    // not FROM another stage. Its total says which: the stage's numbered steps, plus one for a
    // counted FROM. A total that fits neither (ONBUILD triggers of the base add steps) maps
    // nothing rather than every step to its neighbour's line.
    const numbered = this.exported.numberedSteps[stage] ?? [];
    const from = total - numbered.length;
    if (from !== 0 && from !== 1) return { step: undefined, location: undefined };
    if (k <= from) return { step: undefined, location: resolveLocation(this.exported.stageSources[stage]?.meta) };
    const step = numbered[k - 1 - from];
    return { step, location: resolveLocation(step?.meta) };
  }
}
