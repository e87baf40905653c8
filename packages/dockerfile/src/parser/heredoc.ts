import type { Heredoc } from "./types.ts";

/** A heredoc's body as the file receives it: with `<<-`, leading tabs of every line removed. */
export function heredocText(h: Heredoc): string {
  return h.chomp ? h.content.replace(/^\t+/gm, "") : h.content;
}
