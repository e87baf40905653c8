import type { LayerGraph } from "../layer-graph.ts";
import { opDigest } from "../ops/op.ts";
import { describeOp, shortLabel } from "./describe.ts";

/** A Mermaid flowchart: one box per op (labelled with a short digest), edges from inputs, the image last. */
export function renderMermaid(graph: LayerGraph): string {
  const ids = new Map<string, string>();
  const id = (d: string) => {
    if (!ids.has(d)) ids.set(d, `n${ids.size}`);
    return ids.get(d)!;
  };
  const lines = ["flowchart TD"];
  for (const [digest, op] of graph.nodes) {
    lines.push(`  ${id(digest)}["${escapeMermaid(shortLabel(describeOp(op)))}<br/><small>${digest.slice(7, 19)}</small>"]`);
  }
  for (const [digest, op] of graph.nodes) {
    for (const input of op.inputs) lines.push(`  ${id(opDigest(input))} --> ${id(digest)}`);
  }
  const configSteps = graph.image.steps.filter((s) => !s.op).length;
  lines.push(`  image(["image ${graph.digest.slice(7, 19)}<br/><small>${configSteps} config steps</small>"])`);
  lines.push(`  ${id(graph.root)} ==> image`);
  return `${lines.join("\n")}\n`;
}

function escapeMermaid(text: string): string {
  return text.replace(/["<>&#]/g, (c) => `#${c.charCodeAt(0)};`);
}
