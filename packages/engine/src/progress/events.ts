import type { Digest, SourceLocation } from "@strata/graph";

/**
 * What a build reports while it runs. The CLI renders these (plain lines, a live tty view, or
 * JSON lines); tests assert on them (e.g. that two stages overlapped in time). Times are
 * milliseconds since the build started.
 */
export type ProgressEvent =
  | { readonly type: "build-start"; readonly at: number; readonly target: string; readonly steps: number }
  | { readonly type: "step-start"; readonly at: number; readonly id: Digest; readonly name: string; readonly location?: SourceLocation }
  | { readonly type: "step-cached"; readonly at: number; readonly id: Digest; readonly name: string; readonly location?: SourceLocation }
  | { readonly type: "step-log"; readonly at: number; readonly id: Digest; readonly stream: "stdout" | "stderr"; readonly line: string }
  | { readonly type: "step-done"; readonly at: number; readonly id: Digest; readonly name: string; readonly cached: boolean; readonly ms: number; readonly bytes?: number }
  | { readonly type: "step-error"; readonly at: number; readonly id: Digest; readonly name: string; readonly message: string; readonly code?: string; readonly location?: SourceLocation }
  | { readonly type: "explain"; readonly at: number; readonly id: Digest; readonly name: string; readonly reasons: readonly string[] }
  | { readonly type: "info"; readonly at: number; readonly message: string }
  | { readonly type: "build-done"; readonly at: number; readonly digest: Digest; readonly cached: number; readonly built: number };

export type ProgressSink = (event: ProgressEvent) => void;

export function clock(): () => number {
  const start = performance.now();
  return () => Math.round(performance.now() - start);
}
