import { commandText, resolveLocation, StrataError } from "@strata/graph";
import type { ExportResult } from "@strata/dockerfile";
import type { PlainProgress } from "./build-docker-progress.ts";

/**
 * The error of a failed docker build, at the `.image.ts` (or Dockerfile) position of the step
 * that failed: the failing vertex's step when BuildKit names one, else the line a Dockerfile
 * parse error names. A RUN that exits non-zero gets the native engine's code and wording.
 */
export function buildFailure(progress: PlainProgress, exported: Pick<ExportResult, "stepLines" | "dockerfile">, file: string): StrataError {
  // The summary after the vertices: `------ > [stage 2/3] RUN …: ------` then the error itself.
  const summary = progress.tail.filter((l) => !/^-{6}$/.test(l.trim()) && !/^\s*>/.test(l) && !/^\s*\d+ \|/.test(l));
  const finalError = summary.at(-1)?.replace(/^(ERROR|error):\s*/, "") ?? "docker build failed";
  const v = progress.failed();
  const output = v ? v.logs.filter((l) => !l.startsWith("ERROR")).slice(-10) : [];
  const hint = output.length ? `the step's last output:\n    ${output.join("\n    ")}` : "the step printed nothing";
  if (v?.step) {
    const loc = resolveLocation(v.step.meta);
    const status = /exit code: (\d+)/.exec(v.error ?? finalError)?.[1];
    if (v.step.op?.kind === "ExecOp" && status !== undefined) {
      // Worded as the native engine words it.
      return new StrataError("STRATA_RUN_FAILED", `RUN ${commandText(v.step.op.command)} exited with status ${status} (docker build)`, { locations: [loc], hint });
    }
    return new StrataError("STRATA_DOCKER_STEP_FAILED", `${v.step.createdBy} failed in docker build: ${v.error ?? finalError}`, { locations: [loc], hint });
  }
  const parse = /dockerfile parse error line (\d+): (.*)$/.exec(finalError);
  if (parse) {
    const line = Number(parse[1]);
    const at = [...exported.stepLines].reverse().find((s) => s.line <= line);
    const text = exported.dockerfile.split("\n")[line - 1] ?? "";
    return new StrataError("STRATA_DOCKER_SYNTAX", `docker cannot read the exported Dockerfile: ${parse[2]} (line ${line}: ${text.trim()})`, {
      locations: [resolveLocation(at?.step.meta)],
      hint: "the engine's Dockerfile frontend is older than the syntax level used; pass --syntax docker-20.10 (or the engine's level)",
    });
  }
  const where = v ? `${v.name}: ` : "";
  return new StrataError("STRATA_DOCKER_BUILD_FAILED", `docker build failed: ${where}${v?.error ?? finalError}`, {
    ...(v?.location ? { locations: [v.location] } : {}),
    hint: v && !v.step && /FROM|metadata/.test(v.name) ? `a base image is missing from the daemon and cannot be pulled (building ${file})` : hint,
  });
}
