import type { SourceLocation } from "@strata/graph";

/**
 * Frames inside the builder library, image packages (anything under node_modules, @strata/images
 * in this workspace too) and Node itself are skipped: a location names the user's call, so an
 * error raised inside a fragment points at the line that called the fragment.
 */
const LIBRARY_FRAME = /[\\/](?:packages[\\/]core[\\/]src|@strata[\\/]core[\\/](?:src|dist))[\\/]|[\\/]images[\\/]src[\\/](?![^\\/]*\.image\.ts)|^node:|\(node:|[\\/]node_modules[\\/]/;

/**
 * Captures the caller's position cheaply: V8 records the frames now but formats the stack
 * (and applies source maps) only when `.stack` is read, so the cost is paid only for the
 * locations someone asks for (a graph dump, an error).
 */
export function captureCallsite(): () => SourceLocation | undefined {
  const pinned = OVERRIDES.at(-1);
  if (pinned) return () => pinned;
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, captureCallsite);
  let resolved: SourceLocation | undefined | null = null;
  return () => {
    if (resolved === null) resolved = parseFirstUserFrame(holder.stack ?? "");
    return resolved;
  };
}

const FRAME = /^\s*at (?:.*? \()?(.+?):(\d+):(\d+)\)?\s*$/;

function parseFirstUserFrame(stack: string): SourceLocation | undefined {
  for (const line of stack.split("\n").slice(1)) {
    const m = FRAME.exec(line);
    if (!m) continue;
    let file = m[1]!;
    if (LIBRARY_FRAME.test(file) || LIBRARY_FRAME.test(line)) continue;
    if (file.startsWith("file://")) file = decodeURIComponent(new URL(file).pathname);
    return { file, line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}

/**
 * Locations pinned by atLocation(), innermost last. Per copy of this module: an importer pins
 * locations around the builder calls it makes itself, which use its own copy.
 */
const OVERRIDES: SourceLocation[] = [];

/**
 * Runs `fn` with every builder call inside it attributed to `location` instead of its stack
 * frame: what an importer uses so the graph of a Dockerfile points at the Dockerfile's lines.
 */
export function atLocation<T>(location: SourceLocation, fn: () => T): T {
  const stack = OVERRIDES;
  stack.push(location);
  try {
    return fn();
  } finally {
    stack.pop();
  }
}
