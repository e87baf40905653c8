import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { from, ociLayout, scratch } from "@strata/core";
import { exportDockerfile } from "@strata/dockerfile";
import type { ProgressEvent } from "@strata/engine";
import { PlainProgress } from "../../packages/cli/src/commands/build-docker-progress.ts";

// Three stages: one from a local OCI layout (loaded into the daemon under a strata-local name),
// one from that stage (BuildKit does not count its FROM), and a scratch target with more than
// nine numbered steps (BuildKit pads the step number: `[stage-2  1/11]`). One call a line.
const local = "docker.io/strata-local/busybox:oci-layout-0123456789ab";
const build = from(ociLayout("./busybox"))
  .workdir("/src")
  .run("echo one > one");
const more = from(build)
  .run("echo two > two")
  .copy("a.txt", "/src/a.txt");
const target = scratch()
  .copy(more.path("/src"), "/out")
  .copy("a.txt", "/1")
  .copy("a.txt", "/2")
  .copy("a.txt", "/3")
  .copy("a.txt", "/4")
  .copy("a.txt", "/5")
  .copy("a.txt", "/6")
  .copy("a.txt", "/7")
  .copy("a.txt", "/8")
  .copy("a.txt", "/9")
  .copy("a.txt", "/10");
const exported = exportDockerfile(target.toGraph(), { syntax: "docker-20.10", fidelity: "image", localImageName: () => local, baseShell: () => ["/bin/sh", "-c"] });

/** The line of this file where a call is written (what each step's location must be). */
const SOURCE = readFileSync(import.meta.filename, "utf8").split("\n");
const lineOf = (call: string) => SOURCE.findIndex((l) => l.includes(call) && !l.includes("lineOf(")) + 1;

/** The Dockerfile the transcript below was captured for. */
const DOCKERFILE = `FROM docker.io/strata-local/busybox:oci-layout-0123456789ab AS busybox
WORKDIR /src
RUN echo one > one

FROM busybox AS busybox-2
RUN echo two > two
COPY a.txt /src/a.txt

FROM scratch
COPY --from=busybox-2 /src /out
COPY a.txt /1
COPY a.txt /2
COPY a.txt /3
COPY a.txt /4
COPY a.txt /5
COPY a.txt /6
COPY a.txt /7
COPY a.txt /8
COPY a.txt /9
COPY a.txt /10
`;

/** What docker 20.10 printed for `exported.dockerfile` with --no-cache --progress=plain (the base loaded just before: its FROM is DONE, not CACHED). */
const TRANSCRIPT = `#1 [internal] load build definition from Dockerfile
#1 sha256:f9886f202ddf82924bbb6c81fee23a4f2376041456e3ace5ed6846e36020b4f0
#1 transferring dockerfile: 397B done
#1 DONE 0.0s

#2 [internal] load .dockerignore
#2 sha256:6d7fe6b82b5e39f3ddd11353b6b3af1c8a081e246cc6f0543e11a02ca1c00a91
#2 transferring context: 2B done
#2 DONE 0.0s

#3 [internal] load metadata for docker.io/strata-local/busybox:oci-layout-0123456789ab
#3 sha256:39eb6914e85b235a4e3a1af2f7718d98a657fd44fcfb416ffffdfb2498e779fa
#3 DONE 0.0s

#4 [busybox 1/3] FROM docker.io/strata-local/busybox:oci-layout-0123456789ab
#4 sha256:1ee2af681847cf57dbb8dd19195bb2ebe21aa335115537d12662ae96a81f53ab
#4 DONE 0.0s

#5 [busybox 2/3] WORKDIR /src
#5 sha256:36099ce316ae4c34e1d89fb048157d91a1d7acede1acc6d844c7d0e07c2c9f06
#5 CACHED

#8 [internal] load build context
#8 sha256:7c079d515372e6fe5fd6e55d5056b42f552a18e590f1db1257cfa28511999612
#8 transferring context: 38B done
#8 DONE 0.0s

#6 [busybox 3/3] RUN echo one > one
#6 sha256:2d54938fd94accb1a407c3e56c538e49945712673d5b715ac533fe9bc8a72f64
#6 DONE 0.5s

#7 [busybox-2 1/2] RUN echo two > two
#7 sha256:43951ae1a2dd6555da156052b859c368a03e619fc36db8a3ffadbdfb96c619f4
#7 DONE 0.6s

#9 [busybox-2 2/2] COPY a.txt /src/a.txt
#9 sha256:02e730789dad2e77fcf8ecc0cef90e693a0572783b056b9b4e38d562b8634412
#9 DONE 0.1s

#10 [stage-2  1/11] COPY --from=busybox-2 /src /out
#10 sha256:44c456c73eee8674cf01b2d5821ef86613654e228ff5cf9a0a89d526a001a479
#10 DONE 0.0s

#11 [stage-2  2/11] COPY a.txt /1
#11 sha256:2b21126f6e00078060842182a049bdfe303eb67e12de3fc735ba5e3898578aa0
#11 DONE 0.0s

#12 [stage-2  3/11] COPY a.txt /2
#12 sha256:45f976ab7ab1227e3530511193ef30740986894d2c28e6809e0a7fc704adaa50
#12 DONE 0.0s

#13 [stage-2  4/11] COPY a.txt /3
#13 sha256:bac9fd7e25bd8532633197e2e790dd7989bd85405540bc736779549a246b7a56
#13 DONE 0.0s

#14 [stage-2  5/11] COPY a.txt /4
#14 sha256:ce6ae7619208f782f143672bc0adbbf664063caf1fe733b89218566f348ee448
#14 DONE 0.0s

#15 [stage-2  6/11] COPY a.txt /5
#15 sha256:43e27b958b6cc55f7597542d65be218f2973587041c53cef26e545c451fb424c
#15 DONE 0.1s

#16 [stage-2  7/11] COPY a.txt /6
#16 sha256:7f1ff38b9a2ff40afd27e1b57730cd2c7dae5cbb31555938880c93b9417a812e
#16 DONE 0.0s

#17 [stage-2  8/11] COPY a.txt /7
#17 sha256:8790fa73c3371137e7cfeadf1119c79c9a6e9f868a172cbc78bd40b793494237
#17 DONE 0.1s

#18 [stage-2  9/11] COPY a.txt /8
#18 sha256:1492d1c4f4746026c7cfa4b737e2abc1178f5eb67c6017f0814353cf3bebcaf3
#18 DONE 0.0s

#19 [stage-2 10/11] COPY a.txt /9
#19 sha256:9ba13088e216aa203674b43b7cbc97dfe7f2e58f5784af7346846ee6b6c9ddf7
#19 DONE 0.0s

#20 [stage-2 11/11] COPY a.txt /10
#20 sha256:b9056429e938533f993e71e6e7d0c3e2da98d20ddf64415307c410b45371e2c6
#20 DONE 0.0s

#21 exporting to image
#21 sha256:e8c613e07b0b7ff33893b694f7759a10d42e180f2b4dc349fb57dc6b71dcab00
#21 exporting layers
#21 exporting layers 0.3s done
#21 writing image sha256:8ebca90cb9cb4c68c38e90c3afaf51827f27ddb7053a5dfde28547cc3202d49e done
#21 naming to docker.io/library/strata-eq/stages:1 done
#21 DONE 0.3s
`;

function parse(text: string, chunk = 11): { events: ProgressEvent[]; progress: PlainProgress } {
  const events: ProgressEvent[] = [];
  const progress = new PlainProgress(exported, (e) => events.push(e), () => 0);
  for (let i = 0; i < text.length; i += chunk) progress.push(text.slice(i, i + chunk));
  progress.end();
  return { events, progress };
}

/** `[name k/n] text` → the line each step-start reports (steps without a location left out). */
function startLines(events: readonly ProgressEvent[]): [string, number][] {
  return events.flatMap((e) => (e.type === "step-start" && e.location ? [[e.name, e.location.line] as [string, number]] : []));
}

describe("BuildKit progress of a multi-stage module maps every step to its own line", () => {
  test("the Dockerfile is the one the transcript was captured for", () => {
    expect(exported.dockerfile).toBe(DOCKERFILE);
  });

  test("FROM of a stage is not counted, a padded step number is read, and each step reports its own call", () => {
    const { events } = parse(TRANSCRIPT);
    expect(startLines(events)).toEqual([
      [`[busybox 1/3] FROM ${local}`, lineOf('from(ociLayout("./busybox"))')],
      ["[busybox 3/3] RUN echo one > one", lineOf('.run("echo one > one")')],
      ["[busybox-2 1/2] RUN echo two > two", lineOf('.run("echo two > two")')],
      ["[busybox-2 2/2] COPY a.txt /src/a.txt", lineOf('.copy("a.txt", "/src/a.txt")')],
      ["[stage-2  1/11] COPY --from=busybox-2 /src /out", lineOf('.copy(more.path("/src"), "/out")')],
      ...Array.from({ length: 10 }, (_, i): [string, number] => [`[stage-2 ${i + 2 < 10 ? " " : ""}${i + 2}/11] COPY a.txt /${i + 1}`, lineOf(`.copy("a.txt", "/${i + 1}")`)]),
    ]);
    // WORKDIR was CACHED: it has no start, but it is still its own step.
    const { progress } = parse(TRANSCRIPT);
    expect(progress.resolve("[busybox 2/3] WORKDIR /src").location?.line).toBe(lineOf('.workdir("/src")'));
  });

  test("every numbered vertex maps to a distinct step, whatever its state", () => {
    const { progress } = parse(TRANSCRIPT);
    const numbered = [...progress.vertices.values()].filter((v) => /^\[/.test(v.name) && !v.name.startsWith("[internal]"));
    expect(numbered).toHaveLength(1 + 2 + 2 + 11);
    expect(numbered.every((v) => v.location !== undefined)).toBe(true);
    const steps = numbered.filter((v) => v.step).map((v) => v.step);
    expect(new Set(steps).size).toBe(steps.length);
    expect(steps.map((s) => s!.instruction)).toEqual(["WORKDIR", "RUN", "RUN", "COPY", ...Array(11).fill("COPY")]);
  });

  test("the local base image's FROM is one step at the from() line, CACHED or DONE", () => {
    const cachedFrom = TRANSCRIPT.replace(/(#4 sha256:[0-9a-f]{64}\n)#4 DONE 0\.0s/, "$1#4 CACHED");
    expect(cachedFrom).not.toBe(TRANSCRIPT);
    const done = parse(TRANSCRIPT).events.filter((e) => "name" in e && e.name.includes(" FROM "));
    const cached = parse(cachedFrom).events.filter((e) => "name" in e && e.name.includes(" FROM "));
    expect(done.map((e) => e.type)).toEqual(["step-start", "step-done"]);
    expect(cached.map((e) => e.type)).toEqual(["step-cached"]);
    // The other steps report the same lines either way.
    const rest = (events: ProgressEvent[]) => startLines(events).filter(([name]) => !name.includes(" FROM "));
    expect(rest(parse(cachedFrom).events)).toEqual(rest(parse(TRANSCRIPT).events));
  });

  test("a total that does not fit the stage's steps (ONBUILD triggers) maps nothing rather than a neighbour", () => {
    const { progress } = parse("");
    expect(progress.resolve("[busybox-2 1/3] RUN echo two > two")).toEqual({ step: undefined, location: undefined });
    expect(progress.resolve("[busybox-2 1/2] RUN echo two > two").step?.instruction).toBe("RUN");
  });

  test("a platform prefix (a multi-platform build) is read past", () => {
    const { progress } = parse("");
    expect(progress.resolve("[linux/arm64/v8 busybox-2 2/2] COPY a.txt /src/a.txt").location?.line).toBe(lineOf('.copy("a.txt", "/src/a.txt")'));
    expect(progress.resolve("[linux/amd64 stage-2 11/11] COPY a.txt /10").location?.line).toBe(lineOf('.copy("a.txt", "/10")'));
  });
});
