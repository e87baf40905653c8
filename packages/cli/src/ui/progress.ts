import type { ProgressEvent } from "@strata/engine";
import { displayPath } from "./code-frame.ts";
import { jsonLine } from "./json-progress.ts";

/** `rawjson` is buildx's name for machine-readable progress: here the same JSON Lines as `json`. */
export type ProgressMode = "auto" | "tty" | "plain" | "json" | "rawjson" | "quiet";

export interface ProgressRenderer {
  (event: ProgressEvent): void;
  finish(): void;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;

/**
 * Renders build progress: `plain` prints one line per step start/finish and every log line
 * with its step's number (CI logs); `tty` keeps a compact live view (running steps with their
 * last output line) above the cursor; `json` (and `rawjson`) print the events as JSON Lines
 * (schema in json-progress.ts and README.md); `quiet` nothing.
 */
export function progressRenderer(mode: ProgressMode, write: (text: string) => void, opts: { isTty: boolean; color: boolean; cwd: string }): ProgressRenderer {
  const resolved = mode === "auto" ? (opts.isTty ? "tty" : "plain") : mode;
  if (resolved === "quiet") return Object.assign(() => {}, { finish: () => {} });
  if (resolved === "json" || resolved === "rawjson") {
    return Object.assign(
      (e: ProgressEvent) => {
        const { type, ...fields } = e;
        write(jsonLine(type, fields));
      },
      { finish: () => {} },
    );
  }
  const numbers = new Map<string, number>();
  const num = (id: string) => {
    if (!numbers.has(id)) numbers.set(id, numbers.size + 1);
    return numbers.get(id)!;
  };
  const dim = (s: string) => (opts.color ? `\x1b[2m${s}\x1b[0m` : s);
  const green = (s: string) => (opts.color ? `\x1b[32m${s}\x1b[0m` : s);
  const red = (s: string) => (opts.color ? `\x1b[31m${s}\x1b[0m` : s);
  const where = (e: Extract<ProgressEvent, { type: "step-start" }>) => (e.location ? dim(`  ${displayPath(e.location.file, opts.cwd)}:${e.location.line}`) : "");
  const line = (e: ProgressEvent): string | undefined => {
    switch (e.type) {
      case "step-start":
        return `#${num(e.id)} ${e.name}${where(e)}`;
      case "step-cached":
        return `#${num(e.id)} ${e.name} ${dim("CACHED")}`;
      case "step-log":
        return `#${num(e.id)} ${dim("│")} ${e.line}`;
      case "step-done":
        return `#${num(e.id)} ${green("DONE")} ${secs(e.ms)}${e.bytes !== undefined ? dim(` (${formatBytes(e.bytes)})`) : ""}`;
      case "step-error":
        return `#${num(e.id)} ${red("ERROR")} ${e.message.split("\n")[0]}`;
      case "explain":
        return `#${num(e.id)} ${dim("rebuilding:")} ${e.reasons.join("; ")}`;
      case "info":
        return dim(e.message);
      case "build-start":
      case "build-done":
        return undefined;
    }
  };
  if (resolved === "plain") {
    return Object.assign(
      (e: ProgressEvent) => {
        const l = line(e);
        if (l !== undefined) write(`${l}\n`);
      },
      { finish: () => {} },
    );
  }
  // tty: finished lines scroll; running steps stay in a block at the bottom, redrawn in place.
  const running = new Map<string, { name: string; last: string; started: number }>();
  let drawn = 0;
  let now = 0;
  const clear = () => {
    if (drawn) write(`\x1b[${drawn}F\x1b[J`);
    drawn = 0;
  };
  const draw = () => {
    const cols = process.stderr.columns || 100;
    const rows = [...running.entries()].map(([id, r]) => `${dim(`#${num(id)}`)} ${r.name} ${dim(secs(now - r.started))}${r.last ? `\n   ${dim(r.last)}` : ""}`);
    const text = rows.map((r) => r.split("\n").map((l) => l.slice(0, cols - 1)).join("\n")).join("\n");
    if (text) {
      write(`${text}\n`);
      drawn = text.split("\n").length;
    }
  };
  return Object.assign(
    (e: ProgressEvent) => {
      now = e.at;
      clear();
      if (e.type === "step-start") running.set(e.id, { name: e.name, last: "", started: e.at });
      else if (e.type === "step-log") {
        const r = running.get(e.id);
        if (r) r.last = e.line;
      } else {
        if (e.type === "step-done" || e.type === "step-error") running.delete(e.id);
        const l = e.type === "step-done" ? `#${num(e.id)} ${e.name} ${green("DONE")} ${secs(e.ms)}` : line(e);
        if (l !== undefined) write(`${l}\n`);
      }
      draw();
    },
    { finish: () => clear() },
  );
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
