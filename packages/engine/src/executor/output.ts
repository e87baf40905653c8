import { createWriteStream, type WriteStream } from "node:fs";
import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import type { ExecIO } from "./types.ts";

/** A line longer than this is delivered in pieces, so a process printing no newline cannot exhaust memory. */
const MAX_LINE = 64 * 1024;

/**
 * Collects a process's stdout and stderr: every byte goes to the log file (in arrival order),
 * and each stream is split into lines for the callbacks. Also keeps the last lines of stderr
 * for error messages.
 */
export class OutputSink {
  readonly #log: WriteStream | undefined;
  readonly #splitters: LineSplitter[] = [];
  readonly #stderrTail: string[] = [];

  constructor(readonly io: ExecIO) {
    this.#log = io.logFile === undefined ? undefined : createWriteStream(io.logFile, { flags: "w" });
    // A failing log file must not crash the process; the error surfaces at close().
    this.#log?.on("error", () => {});
  }

  /** Attaches a child's streams; returns when both have ended. */
  attach(stdout: Readable, stderr: Readable): Promise<void> {
    const out = new LineSplitter((l) => this.io.onStdout?.(l));
    const err = new LineSplitter((l) => {
      this.#stderrTail.push(l);
      if (this.#stderrTail.length > 20) this.#stderrTail.shift();
      this.io.onStderr?.(l);
    });
    this.#splitters.push(out, err);
    const raw = { out: this.io.container?.onStdoutData, err: this.io.container?.onStderrData };
    const pump = (s: Readable, split: LineSplitter, rawSink: ((b: Buffer) => void) | undefined) =>
      new Promise<void>((resolve) => {
        s.on("data", (b: Buffer) => {
          this.#log?.write(b);
          // Container output is passed on byte for byte; only the stderr tail is still kept.
          if (rawSink) {
            rawSink(b);
            if (split === err) this.#keepTail(b);
          } else split.push(b);
        });
        s.on("end", () => {
          split.end();
          resolve();
        });
        s.on("error", () => resolve());
      });
    return Promise.all([pump(stdout, out, raw.out), pump(stderr, err, raw.err)]).then(() => undefined);
  }

  #keepTail(b: Buffer): void {
    for (const line of b.toString("utf8").split("\n")) {
      if (line === "") continue;
      this.#stderrTail.push(line.slice(0, 4096));
      if (this.#stderrTail.length > 20) this.#stderrTail.shift();
    }
  }

  /** The last stderr lines seen (for error messages). */
  stderrTail(): readonly string[] {
    return this.#stderrTail;
  }

  async close(): Promise<void> {
    for (const s of this.#splitters) s.end();
    const log = this.#log;
    if (!log) return;
    await new Promise<void>((resolve, reject) => {
      if (log.errored) return reject(log.errored);
      log.end(() => (log.errored ? reject(log.errored) : resolve()));
    });
  }
}

export class LineSplitter {
  readonly #decoder = new StringDecoder("utf8");
  #partial = "";
  #ended = false;

  constructor(readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    let text = this.#partial + this.#decoder.write(chunk);
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n")) {
      this.onLine(stripCr(text.slice(0, nl)));
      text = text.slice(nl + 1);
    }
    while (text.length > MAX_LINE) {
      this.onLine(text.slice(0, MAX_LINE));
      text = text.slice(MAX_LINE);
    }
    this.#partial = text;
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const rest = this.#partial + this.#decoder.end();
    this.#partial = "";
    if (rest !== "") this.onLine(stripCr(rest));
  }
}

function stripCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}
