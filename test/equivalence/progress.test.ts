import { describe, expect, test } from "vitest";
import { from, scratch } from "@strata/core";
import { exportDockerfile } from "@strata/dockerfile";
import type { ProgressEvent } from "@strata/engine";
import { PlainProgress } from "../../packages/cli/src/commands/build-docker-progress.ts";
import { buildFailure } from "../../packages/cli/src/commands/build-docker-errors.ts";

// A multi-stage target: a named build stage from an image, the target from scratch.
const build = from("busybox:1.36").workdir("/src").run("make\nmake install");
const target = scratch().copy(build.path("/out"), "/out").copy("a.txt", "/a.txt");
const exported = exportDockerfile(target.toGraph(), { syntax: "docker-20.10", fidelity: "image", baseShell: () => ["/bin/sh", "-c"] });

/** What docker 20.10 prints for it with --progress=plain (vertex numbers, re-printed headers, a multi-line error). */
const TRANSCRIPT = `#1 [internal] load build definition from Dockerfile
#1 sha256:2b0c4274f9206d365c999e5f2039c82afe66cb6e5d88a63cefee7ed9fe5c802d
#1 transferring dockerfile: 237B done
#1 DONE 0.0s

#3 [busybox 1/3] FROM docker.io/library/busybox:1.36
#3 CACHED

#4 [busybox 2/3] WORKDIR /src
#4 DONE 0.1s

#5 [busybox 3/3] RUN ["/bin/sh", "-c", "make\\nmake install"]
#5 0.203 compiling
#6 [internal] load build context
#6 transferring context: 35B done
#6 DONE 0.0s
#5 [busybox 3/3] RUN ["/bin/sh", "-c", "make\\nmake install"]
#5 1.204 make: *** No rule to make target 'install'.
#5 ERROR: executor failed running [/bin/sh -c make
make install]: exit code: 2
------
 > [busybox 3/3] RUN ["/bin/sh", "-c", "make\\nmake install"]:
------
executor failed running [/bin/sh -c make
make install]: exit code: 2
`;

function parse(text: string, chunk = 7): { events: ProgressEvent[]; progress: PlainProgress } {
  const events: ProgressEvent[] = [];
  const progress = new PlainProgress(exported, (e) => events.push(e), () => 0);
  // Arbitrary chunk boundaries, as a pipe delivers them.
  for (let i = 0; i < text.length; i += chunk) progress.push(text.slice(i, i + chunk));
  progress.end();
  return { events, progress };
}

describe("BuildKit plain progress as Strata's progress", () => {
  test("steps map to the module's lines by stage name and step number; FROM scratch is not counted", () => {
    const { progress } = parse(TRANSCRIPT);
    const byName = new Map([...progress.vertices.values()].map((v) => [v.name, v]));
    expect(byName.get("[busybox 2/3] WORKDIR /src")?.step?.instruction).toBe("WORKDIR");
    expect(byName.get('[busybox 3/3] RUN ["/bin/sh", "-c", "make\\nmake install"]')?.location?.line).toBe(9);
    expect(byName.get("[busybox 1/3] FROM docker.io/library/busybox:1.36")?.location?.line).toBe(9);
    expect(progress.resolve("[stage-1 1/2] COPY --from=busybox /out /out").step?.instruction).toBe("COPY");
    expect(progress.resolve("[stage-1 2/2] COPY a.txt /a.txt").location?.line).toBe(10);
  });

  test("events: cached, start/done, output without timestamps, a multi-line error kept whole", () => {
    const { events, progress } = parse(TRANSCRIPT);
    const kinds = events.map((e) => `${e.type}${"name" in e ? ` ${e.name.slice(0, 20)}` : ""}${e.type === "step-log" ? ` ${e.line}` : ""}`);
    expect(kinds).toEqual([
      "step-cached [busybox 1/3] FROM d",
      "step-start [busybox 2/3] WORKDI",
      "step-done [busybox 2/3] WORKDI",
      'step-start [busybox 3/3] RUN ["',
      "step-log compiling",
      "step-start [internal] load buil",
      "step-log transferring context: 35B done",
      "step-done [internal] load buil",
      "step-log make: *** No rule to make target 'install'.",
      'step-error [busybox 3/3] RUN ["',
    ]);
    expect(progress.failed()?.error).toBe("executor failed running [/bin/sh -c make\nmake install]: exit code: 2");
  });

  test("the failure is the native engine's RUN error, at the step's line, with its output", () => {
    const e = buildFailure(parse(TRANSCRIPT).progress, exported, "app.image.ts");
    expect(e.code).toBe("STRATA_RUN_FAILED");
    expect(e.message).toBe("RUN make\nmake install exited with status 2 (docker build)");
    expect(e.locations[0]?.line).toBe(9);
    expect(e.hint).toContain("No rule to make target");
  });

  test("a Dockerfile parse error maps its line back to the step", () => {
    const { progress } = parse("#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\nfailed to solve with frontend dockerfile.v0: failed to create LLB definition: dockerfile parse error line 3: Unknown flag: link\n");
    const e = buildFailure(progress, exported, "app.image.ts");
    expect(e.code).toBe("STRATA_DOCKER_SYNTAX");
    // Line 3 is the build stage's RUN, written at line 9 of this file.
    expect(e.message).toContain(`line 3: ${exported.dockerfile.split("\n")[2]}`);
    expect(exported.dockerfile.split("\n")[2]).toMatch(/^RUN /);
    expect(e.locations[0]?.line).toBe(9);
  });
});
