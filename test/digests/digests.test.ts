import { join } from "node:path";
import { tmpdir } from "node:os";
import { describe, expect, test } from "vitest";
import { goBuild, nodeBase, nodeDeps, nodeRuntime, ociLabels, staticImage } from "@strata/images";
import { from, context } from "@strata/core";
import { loadGraphs } from "../../packages/cli/src/index.ts";
import { REPO } from "../helpers/cli.ts";

/**
 * Digest-stability snapshots: a digest changes only on purpose. If this fails after an
 * intended change (to the graph encoding, a builder, an example), review the diff and accept it
 * with `pnpm vitest run test/digests -u`; say why in the commit message.
 */
const ctx = {
  cwd: REPO,
  env: { ...process.env, STRATA_HOME: join(tmpdir(), "strata-digests-home"), STRATA_NO_EVAL_CACHE: "1" },
  stdout: () => {},
  stderr: () => {},
  stdin: async () => "",
  color: false,
  isTty: false,
};

describe("digest stability", () => {
  test("examples/*", async () => {
    const out: Record<string, string> = {};
    for (const file of ["examples/hello/hello.image.ts", "examples/node-service/service.image.ts", "examples/go-static/app.image.ts"]) {
      const { targets } = await loadGraphs(file, ctx);
      for (const [name, g] of [...targets].sort(([a], [b]) => (a < b ? -1 : 1))) out[`${file}#${name}`] = g.digest;
    }
    await expect(`${JSON.stringify(out, null, 2)}\n`).toMatchFileSnapshot("./__snapshots__/examples.json");
  });

  test("images/*", async () => {
    const src = context();
    const out: Record<string, string> = {
      "nodeBase 22": nodeBase({ version: "22" }).digest,
      "nodeBase 20 alpine": nodeBase({ version: "20", variant: "alpine" }).digest,
      "nodeDeps 22": nodeDeps({ version: "22", src }).digest,
      "nodeRuntime 3000 /healthz": from("node:22").with(nodeRuntime({ port: 3000, healthPath: "/healthz" })).digest,
      "goBuild 1.23 ./cmd/app": goBuild({ version: "1.23", pkg: "./cmd/app" }).digest,
      "staticImage": staticImage(goBuild({ version: "1.23", pkg: "." }).path("/out/app")).digest,
      "ociLabels": from("x").with(ociLabels({ title: "t", licenses: "MIT" })).digest,
    };
    await expect(`${JSON.stringify(out, null, 2)}\n`).toMatchFileSnapshot("./__snapshots__/images.json");
  });
});
