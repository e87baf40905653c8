import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { scratchProject, strata } from "../helpers/cli.ts";
import { busyboxLayout } from "../helpers/busybox.ts";
import { docker, dockerAvailable, dockerImportBusybox, dockerRun } from "../helpers/docker.ts";
import { isRoot, missing } from "../helpers/requires.ts";

const BASE = "interop-vs/busybox:1";

/**
 * `FROM base-$TARGETOS` names a stage once the value is known (buildx's own Dockerfile:
 * `FROM binaries-$TARGETOS`): the picked stage's files, ENV and USER carry over; the other
 * stage is never built (it would fail).
 */
const DOCKERFILE = `ARG FLAVOR=b
FROM ${BASE} AS base-linux
ENV OS=linux
USER app
RUN echo linux > /tmp/os

FROM ${BASE} AS base-windows
RUN echo windows > /tmp/os && false

FROM base-$TARGETOS AS picked
RUN cat /tmp/os > /tmp/picked && echo "$OS" > /tmp/env && id -u > /tmp/uid

FROM ${BASE} AS flavor-a
RUN echo A > /f
FROM ${BASE} AS flavor-b
RUN echo B > /f
FROM flavor-\${FLAVOR}
COPY --from=picked /tmp/picked /tmp/env /tmp/uid /out/
CMD ["sh", "-c", "cat /f /out/picked /out/env /out/uid"]
`;

const digestOf = (graphJson: string) => (JSON.parse(graphJson) as { digest: string }).digest;

describe("a FROM value naming a stage picks that stage", () => {
  let dir: string;
  const tags: string[] = [];
  beforeAll(async () => {
    dir = scratchProject({ Dockerfile: DOCKERFILE });
    await busyboxLayout(dir);
  });
  afterAll(() => {
    if (tags.length && dockerAvailable()) docker(["rmi", "-f", ...tags]);
  });

  test("the graph holds a select over the stages; the generated module type-checks and has the same digest", () => {
    const graph = strata(["graph", "Dockerfile"], { cwd: dir });
    expect(graph.code, graph.stderr).toBe(0);
    const nodes = (JSON.parse(graph.stdout) as { nodes: Array<{ kind: string; key?: string; names?: string[] }> }).nodes;
    const selects = nodes.filter((n) => n.kind === "SelectOp").map((n) => `${n.key}: ${n.names?.join(" ")}`);
    expect(selects.sort()).toEqual(["base-$TARGETOS: base-linux base-windows", "flavor-$FLAVOR: flavor-a flavor-b"]);
    const imp = strata(["import", "Dockerfile", "-o", "vs.image.ts"], { cwd: dir });
    expect(imp.code, imp.stderr).toBe(0);
    const source = readFileSync(join(dir, "vs.image.ts"), "utf8");
    expect(source).toContain('stageFor(`base-${TARGETOS}`, { "base-linux": baseLinux, "base-windows": baseWindows }');
    expect(source).toContain('stageFor(`flavor-${FLAVOR}`, { "flavor-a": flavorA, "flavor-b": flavorB }');
    const check = strata(["check", "vs.image.ts"], { cwd: dir });
    expect(check.code, check.stderr + check.stdout).toBe(0);
    const fromModule = strata(["graph", "vs.image.ts"], { cwd: dir });
    expect(digestOf(fromModule.stdout)).toBe(digestOf(strata(["graph", "Dockerfile"], { cwd: dir }).stdout));
    // The exported Dockerfile names the stages so BuildKit picks the same one.
    const back = strata(["dockerfile", "vs.image.ts"], { cwd: dir });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain("FROM base-$TARGETOS AS picked");
    expect(back.stdout).toContain("FROM flavor-$FLAVOR");
  });

  test.skipIf(missing({ root: isRoot }))("natively: the stage the args name is built (with its ENV and USER), the other never", () => {
    const image = `--image=${BASE}=oci-layout:./busybox`;
    const a = strata(["build", "Dockerfile", image, "-o", "type=oci-layout,dest=out-b", "--progress", "plain"], { cwd: dir });
    expect(a.code, a.stderr).toBe(0);
    // base-windows fails if built (`&& false`): only the picked stage runs.
    expect(a.stderr).not.toContain("echo windows");
    if (missing({ dockerd: dockerAvailable() })) return;
    for (const [flavor, want] of [["b", "B"], ["a", "A"]] as const) {
      const tag = `interop-vs/native-${flavor}:1`;
      tags.push(tag);
      const r = strata(["build", "vs.image.ts", image, "--build-arg", `FLAVOR=${flavor}`, "-t", tag, "--load", "--progress", "quiet"], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      expect(dockerRun(tag).stdout).toBe(`${want}\nlinux\nlinux\n1000\n`);
    }
  });

  test.skipIf(missing({ dockerd: dockerAvailable() }))("with --engine docker: BuildKit picks the same stages from the exported Dockerfile", () => {
    dockerImportBusybox(BASE);
    for (const [flavor, want] of [["b", "B"], ["a", "A"]] as const) {
      const tag = `interop-vs/docker-${flavor}:1`;
      tags.push(tag);
      const r = strata(["build", "vs.image.ts", "--engine", "docker", "--build-arg", `FLAVOR=${flavor}`, "-t", tag, "--progress", "plain"], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      expect(dockerRun(tag).stdout).toBe(`${want}\nlinux\nlinux\n1000\n`);
    }
  });
});
