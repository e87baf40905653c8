import { createHash } from "node:crypto";
import { describe, expect, test } from "vitest";
import {
  createGraph,
  ExecOp,
  FileOp,
  graphFromJson,
  graphToJson,
  MergeOp,
  opDigest,
  renderDot,
  renderMermaid,
  SourceOp,
  walkOps,
  type GraphJson,
  type Op,
} from "../src/index.ts";

const base = SourceOp.create({ type: "image", ref: "busybox:1.36" });
const ctx = SourceOp.create({ type: "local", name: "context" });
const run = (script: string, input: Op = base) => ExecOp.create({ inputs: [input], command: { form: "shell", script }, scope: [] });

describe("op digests", () => {
  test("same content, same digest; provenance is not part of it", () => {
    const a = ExecOp.create({ inputs: [base], command: { form: "shell", script: "make" }, scope: [], meta: { description: "a", location: { file: "/x.ts", line: 1, column: 1 } } });
    const b = ExecOp.create({ inputs: [base], command: { form: "shell", script: "make" }, scope: [], meta: { description: "b" } });
    expect(opDigest(a)).toBe(opDigest(b));
  });
  test("any content change changes the digest, and every digest downstream", () => {
    const r1 = run("make");
    const r2 = run("make all");
    expect(opDigest(r1)).not.toBe(opDigest(r2));
    const c1 = FileOp.create([r1, ctx], [{ action: "copy", from: 1, src: ["a"], dest: "/a" }], []);
    const c2 = FileOp.create([r2, ctx], [{ action: "copy", from: 1, src: ["a"], dest: "/a" }], []);
    expect(opDigest(c1)).not.toBe(opDigest(c2));
  });
  test("mount order does not matter; defaults are dropped", () => {
    const m1 = ExecOp.create({ inputs: [base], command: { form: "exec", argv: ["true"] }, scope: [], network: "default", mounts: [{ type: "tmpfs", target: "/b" }, { type: "cache", target: "/a" }] });
    const m2 = ExecOp.create({ inputs: [base], command: { form: "exec", argv: ["true"] }, scope: [], mounts: [{ type: "cache", target: "/a" }, { type: "tmpfs", target: "/b" }] });
    expect(opDigest(m1)).toBe(opDigest(m2));
    expect("network" in m1).toBe(false);
  });
  test("the encoding is exactly the documented bytes (changing it needs a format version bump)", () => {
    const bytes = 'strata.op/v1\n{"inputs":[],"kind":"SourceOp","source":{"ref":"busybox:1.36","type":"image"}}';
    expect(opDigest(base)).toBe(`sha256:${createHash("sha256").update(bytes).digest("hex")}`);
  });
});

describe("graphs", () => {
  const r = run("make");
  const copy = FileOp.create([r, ctx], [{ action: "copy", from: 1, src: ["src"], dest: "/app" }], [{ workdir: "/w" }], { location: { file: "/f.ts", line: 3, column: 2 } });
  const merged = MergeOp.create([copy, run("other")]);
  const image = {
    rootfs: merged,
    steps: [
      { instruction: "RUN" as const, createdBy: "RUN make", op: r },
      { instruction: "COPY" as const, createdBy: "COPY src /app", op: copy },
      { instruction: "MERGE" as const, createdBy: "merge", op: merged },
      { instruction: "LABEL" as const, createdBy: "LABEL a=b", edits: [{ edit: "label" as const, key: "a", value: "b" }] },
    ],
  };
  const g = createGraph(image);

  test("nodes come inputs first, each once", () => {
    const order = [...g.nodes.values()];
    for (const [i, op] of order.entries()) for (const input of op.inputs) expect(order.indexOf(input)).toBeLessThan(i);
    expect(order.filter((o) => o === base)).toHaveLength(1);
    const visited: Op[] = [];
    walkOps([merged, merged], (o) => visited.push(o));
    expect(visited).toHaveLength(order.length);
  });

  test("a config-only change changes the graph digest but no op digest", () => {
    const g2 = createGraph({ ...image, steps: [...image.steps.slice(0, 3), { ...image.steps[3]!, createdBy: "LABEL a=c", edits: [{ edit: "label", key: "a", value: "c" }] }] });
    expect(g2.digest).not.toBe(g.digest);
    expect([...g2.nodes.keys()]).toEqual([...g.nodes.keys()]);
    expect(g2.root).toBe(g.root);
  });

  test("JSON round trip gives the same graph, with locations", () => {
    const json = JSON.parse(JSON.stringify(graphToJson(g))) as GraphJson;
    const back = graphFromJson(json);
    expect(back.digest).toBe(g.digest);
    expect([...back.nodes.keys()]).toEqual([...g.nodes.keys()]);
    expect(json.nodes.find((n) => n.digest === opDigest(copy))?.location).toEqual({ file: "/f.ts", line: 3, column: 2 });
  });

  test("tampered JSON is refused", () => {
    const json = JSON.parse(JSON.stringify(graphToJson(g))) as { nodes: Array<Record<string, unknown>>; digest: string };
    (json.nodes[1]!.command as { script: string }).script = "rm -rf /";
    expect(() => graphFromJson(json as unknown as GraphJson)).toThrow(expect.objectContaining({ code: "STRATA_GRAPH_CORRUPT" }));
    const json2 = JSON.parse(JSON.stringify(graphToJson(g))) as GraphJson & { digest: string };
    (json2 as { digest: string }).digest = `sha256:${"0".repeat(64)}`;
    expect(() => graphFromJson(json2)).toThrow(/does not match/);
  });

  test("mermaid and dot name every node and edge", () => {
    const m = renderMermaid(g);
    expect(m.startsWith("flowchart TD\n")).toBe(true);
    expect(m).toContain("RUN make");
    expect(m.match(/-->/g)).toHaveLength([...g.nodes.values()].reduce((n, o) => n + o.inputs.length, 0));
    const d = renderDot(g);
    expect(d).toMatch(/^digraph strata \{/);
    for (const digest of g.nodes.keys()) expect(d).toContain(`"${digest}"`);
  });
});
