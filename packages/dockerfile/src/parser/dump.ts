/**
 * BuildKit's `Node.Dump()`: one s-expression per instruction, values printed with Go's
 * strconv.Quote, flags as a Go-quoted list. Heredoc bodies are not part of the dump (BuildKit
 * keeps them beside the node), so `dumpAst` prints exactly what BuildKit's dump prints.
 */
import { goTrimSpace } from "../shell/chars.ts";
import { goQuote, goQuoteList } from "./go-quote.ts";
import type { DockerfileAst, RawNode } from "./types.ts";

export function dumpNode(node: RawNode): string {
  let str = node.value.toLowerCase();
  if (node.flags.length > 0) str += ` ${goQuoteList(node.flags)}`;
  for (const c of node.children) str += `(${dumpNode(c)})\n`;
  for (const n of node.next) str += ` ${n.children.length > 0 ? dumpNode(n) : goQuote(n.value)}`;
  return goTrimSpace(str);
}

/** The whole file as BuildKit's root node dumps it (children joined by newlines). */
export function dumpAst(ast: DockerfileAst | readonly RawNode[]): string {
  const nodes = Array.isArray(ast) ? (ast as readonly RawNode[]) : (ast as DockerfileAst).raw;
  let str = "";
  for (const c of nodes) str += `(${dumpNode(c)})\n`;
  return goTrimSpace(str);
}
