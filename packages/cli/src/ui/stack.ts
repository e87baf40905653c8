import type { SourceLocation } from "@strata/graph";

const FRAME = /^\s*at (?:.*? \()?(.+?):(\d+):(\d+)\)?\s*$/;
/** Frames of Strata itself, of image packages (@strata/images here too) and of Node are not the user's. */
const NOT_USER = /[\\/](?:packages[\\/](?:core|graph|cli)[\\/]src|@strata[\\/](?:core|graph|cli)[\\/])|[\\/]cli[\\/]dist[\\/]|[\\/]images[\\/]src[\\/](?![^\\/]*\.image\.ts)|^node:|\(node:|node_modules/;

/** The first stack frame in the user's own code (through source maps when enabled). */
export function parseFirstUserFrame(stack: string): SourceLocation | undefined {
  for (const line of stack.split("\n").slice(1)) {
    const m = FRAME.exec(line);
    if (!m) continue;
    let file = m[1]!;
    if (NOT_USER.test(file)) continue;
    if (file.startsWith("file://")) file = decodeURIComponent(new URL(file).pathname);
    if (!file.startsWith("/")) continue;
    return { file, line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}
