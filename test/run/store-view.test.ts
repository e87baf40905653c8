import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { busyboxLayout } from "../helpers/busybox.ts";
import { scratchProject, strata } from "../helpers/cli.ts";
import { isRoot, missing } from "../helpers/requires.ts";

// Layer 1 writes 300 KiB that layer 2 deletes, and two small files it overwrites / deletes.
const WASTE = `import { from, ociLayout } from "@strata/core";
export default from(ociLayout("./busybox"))
  .run("dd if=/dev/zero of=/big bs=1024 count=300 2>/dev/null && mkdir -p /d && echo a > /d/a && echo b > /d/b")
  .run("rm /big && echo changed > /d/a && rm -r /d/b")
  .expose(8080)
  .cmd(["sh"]);
`;

const DOCKERFILE = "FROM busybox\nRUN echo from-dockerfile > /df\nENV X=1\n";

describe.skipIf(missing({ root: isRoot }))("a store you can see: images, inspect, history, tag, rmi", () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let home: string;
  const cli = (args: readonly string[]) => strata(args, { cwd: dir, env });

  beforeAll(async () => {
    dir = scratchProject({ "waste.image.ts": WASTE, Dockerfile: DOCKERFILE });
    await busyboxLayout(dir);
    home = mkdtempSync(join(tmpdir(), "strata-store-view-"));
    env = { STRATA_HOME: home };
    expect(cli(["build", "waste.image.ts", "-t", "view/waste:1", "--progress", "quiet"]).code).toBe(0);
    expect(cli(["build", "Dockerfile", "-t", "view/df", "--image", "busybox=oci-layout:./busybox", "--progress", "quiet"]).code).toBe(0);
  });

  afterAll(() => rmSync(home, { recursive: true, force: true }));

  test("strata images: one row per name with ID, created, size and the bytes shared with other images", () => {
    const json = JSON.parse(cli(["images", "--format", "json"]).stdout) as { names: string[]; id: string; size: number; sharedSize: number; layers: number }[];
    expect(json.map((i) => i.names)).toEqual([["view/df:latest"], ["view/waste:1"]]);
    const [df, waste] = json as [(typeof json)[0], (typeof json)[0]];
    expect(waste.layers).toBe(3);
    // Both stand on the same busybox layer: it is what they share, and no more.
    expect(df.sharedSize).toBe(waste.sharedSize);
    expect(waste.size).toBeGreaterThan(waste.sharedSize + 300 * 1024);
    const table = cli(["images"]).stdout.split("\n");
    expect(table[0]).toMatch(/^NAME\s+IMAGE ID\s+CREATED\s+PLATFORM\s+LAYERS\s+SIZE\s+SHARED$/);
    expect(table[2]).toMatch(new RegExp(`^view/waste:1\\s+${waste.id.slice(7, 19)}\\s+`));
  });

  test("strata inspect: config, manifest and each layer with the step and source line that made it", () => {
    const text = cli(["inspect", "view/waste:1"]).stdout;
    expect(text).toContain("ExposedPorts: 8080/tcp");
    expect(text).toContain('Cmd: ["sh"]');
    expect(text).toMatch(/RUN rm \/big && echo changed > \/d\/a && rm -r \/d\/b {2}\[.*waste\.image\.ts:4:4\]/);
    const j = JSON.parse(cli(["inspect", "view/waste:1", "--format", "json"]).stdout) as {
      manifest: { layers: unknown[] };
      config: { config: { Cmd: string[] } };
      layers: { createdBy: string; location?: string; size: number }[];
    };
    expect(j.manifest.layers).toHaveLength(3);
    expect(j.config.config.Cmd).toEqual(["sh"]);
    expect(j.layers.map((l) => l.createdBy)).toEqual([
      "busybox-static (test base image)",
      "RUN dd if=/dev/zero of=/big bs=1024 count=300 2>/dev/null && mkdir -p /d && echo a > /d/a && echo b > /d/b",
      "RUN rm /big && echo changed > /d/a && rm -r /d/b",
    ]);
    expect(j.layers.map((l) => l.location?.replace(/^.*\//, ""))).toEqual([undefined, "waste.image.ts:3:4", "waste.image.ts:4:4"]);
    // A Dockerfile's layers point at its lines.
    const df = JSON.parse(cli(["inspect", "view/df", "--format", "json"]).stdout) as { layers: { location?: string }[] };
    expect(df.layers[1]!.location?.replace(/^.*\//, "")).toBe("Dockerfile:2:1");
    const missing = cli(["inspect", "view/none"]);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining("STRATA_IMAGE_NOT_FOUND")]);
  });

  test("strata history: newest step first, with layer, size and source", () => {
    const rows = cli(["history", "view/waste:1"]).stdout.trimEnd().split("\n");
    expect(rows[0]).toMatch(/^LAYER\s+CREATED\s+CREATED BY\s+SIZE\s+SOURCE$/);
    expect(rows[1]).toMatch(/^<none>\s+\S+\s+CMD \["sh"\]\s+0 B\s+.*waste\.image\.ts:6:4$/);
    expect(rows[2]).toMatch(/EXPOSE 8080\/tcp/);
    expect(rows[3]).toMatch(/^[0-9a-f]{12}\s+\S+\s+RUN rm \/big/);
    expect(rows.at(-1)).toMatch(/busybox-static \(test base image\)\s+1\.\d MiB\s*$/);
  });

  test("strata inspect --layers: what each layer adds, changes and removes, and the bytes later layers waste", () => {
    const j = JSON.parse(cli(["inspect", "view/waste:1", "--layers", "--format", "json"]).stdout) as {
      wastedBytes: number;
      efficiency: number;
      layers: { added: number; changed: number; removed: number; wastedBytes: number; changes: { path: string; kind: string; size: number; hiddenBytes?: number }[] }[];
      wasted: { path: string; size: number; layer: number; hiddenBy: number }[];
    };
    // 300 KiB of /big plus "a\n" and "b\n": stored by layer 1, invisible after layer 2.
    expect(j.wastedBytes).toBe(300 * 1024 + 2 + 2);
    expect(j.layers[1]!.wastedBytes).toBe(j.wastedBytes);
    expect(j.layers[0]!.wastedBytes).toBe(0);
    expect(j.wasted[0]).toEqual({ path: "big", size: 300 * 1024, layer: 1, hiddenBy: 2 });
    const l2 = j.layers[2]!.changes;
    expect(l2).toContainEqual({ path: "big", kind: "removed", type: "file", size: 0, hiddenBytes: 300 * 1024 });
    expect(l2).toContainEqual({ path: "d/b", kind: "removed", type: "file", size: 0, hiddenBytes: 2 });
    expect(l2).toContainEqual({ path: "d/a", kind: "changed", type: "file", size: 8, hiddenBytes: 2 });
    expect(j.layers[1]!.changes.filter((c) => c.kind === "added").map((c) => c.path)).toEqual(["big", "d", "d/a", "d/b"]);
    expect(j.efficiency).toBeLessThan(1);
    const text = cli(["inspect", "view/waste:1", "--layers"]).stdout;
    expect(text).toMatch(/- hides 300\.0 KiB {2}\/big/);
    expect(text).toMatch(/300\.0 KiB {2}\/big {2}\(stored by layer 1, hidden by layer 2\)/);
    expect(text).toMatch(/efficiency: \d+\.\d\d%/);
  });

  test("strata tag and strata rmi: names, then content; an ID with several names and a busy store are handled as docker does", async () => {
    expect(cli(["tag", "view/waste:1", "view/again"]).code).toBe(0);
    const imgs = JSON.parse(cli(["images", "--format", "json"]).stdout) as { names: string[]; id: string; manifest: string }[];
    const waste = imgs.find((i) => i.names.includes("view/again:latest"))!;
    expect(waste.names).toEqual(["view/again:latest", "view/waste:1"]);
    const bad = cli(["tag", "view/waste:1", "Not A Name"]);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining("not a valid image name")]);

    const byId = cli(["rmi", waste.id.slice(7, 19)]);
    expect([byId.code, byId.stderr]).toEqual([1, expect.stringContaining("STRATA_IMAGE_IN_USE")]);
    expect(cli(["rmi", "view/again"]).stdout).toBe("Untagged: view/again:latest\n");
    const manifestBlob = join(home, "v1", "blobs", "sha256", waste.manifest.slice(7));
    expect(existsSync(manifestBlob)).toBe(true);

    // While another process holds the store's build lock, only the name goes.
    const holder = spawn("sleep", ["30"]);
    const lock = join(home, "v1", "locks", `build-${holder.pid}`);
    mkdirSync(join(home, "v1", "locks"), { recursive: true });
    writeFileSync(lock, String(Date.now()));
    try {
      const busy = cli(["rmi", "view/waste:1"]);
      expect(busy.stdout).toBe("Untagged: view/waste:1\n");
      expect(busy.stderr).toContain("strata cache prune");
      expect(existsSync(manifestBlob)).toBe(true);
    } finally {
      rmSync(lock, { force: true });
      holder.kill("SIGKILL");
    }
    expect(cli(["tag", waste.manifest, "view/waste:1"]).code).toBe(0);
    const rm = cli(["rmi", "view/waste:1"]);
    expect(rm.stdout).toBe(`Untagged: view/waste:1\nDeleted: ${waste.id}\n`);
    expect(existsSync(manifestBlob)).toBe(false);
    // The other image keeps the base layer they shared, and still inspects in full.
    expect(cli(["inspect", "view/df", "--layers", "--format", "json"]).code).toBe(0);
    expect((JSON.parse(cli(["images", "--format", "json"]).stdout) as unknown[]).length).toBe(1);
  });
});
