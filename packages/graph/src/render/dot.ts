import type { LayerGraph } from "../layer-graph.ts";
import { opDigest } from "../ops/op.ts";
import { describeOp, shortLabel } from "./describe.ts";

const SHAPES: Record<string, string> = { SourceOp: "cylinder", ExecOp: "box", FileOp: "note", MergeOp: "invtriangle", SelectOp: "diamond" };

/** Graphviz DOT: nodes named by digest, labelled with a short description. */
export function renderDot(graph: LayerGraph): string {
  const lines = ["digraph strata {", "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=10];'];
  for (const [digest, op] of graph.nodes) {
    const label = `${shortLabel(describeOp(op))}\\n${digest.slice(7, 19)}`;
    lines.push(`  "${digest}" [shape=${SHAPES[op.kind]}, label="${escapeDot(label)}"];`);
  }
  for (const [digest, op] of graph.nodes) {
    for (const input of op.inputs) lines.push(`  "${opDigest(input)}" -> "${digest}";`);
  }
  lines.push(`  "image" [shape=doubleoctagon, label="image\\n${graph.digest.slice(7, 19)}"];`);
  lines.push(`  "${graph.root}" -> "image" [style=bold];`);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

function escapeDot(text: string): string {
  return text.replace(/"/g, '\\"').replace(/\\(?!n)/g, "\\\\");
}
