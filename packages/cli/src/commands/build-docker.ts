import { StrataError } from "@strata/graph";
import type { Platform } from "@strata/graph";
import type { OutputSpec } from "@strata/build";
import type { ParsedArgs } from "../argv.ts";
import type { CliContext } from "../context.ts";
import type { LoadedTarget } from "../load/load-target.ts";

export interface DockerEngineOptions {
  readonly tags: readonly string[];
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly platform: Platform;
  readonly outputs: readonly OutputSpec[];
}

/** `strata build --engine docker`: export the graph as a Dockerfile and hand it to `docker build`. */
export async function buildWithDocker(_args: ParsedArgs, _ctx: CliContext, _loaded: LoadedTarget, _opts: DockerEngineOptions): Promise<number> {
  throw new StrataError("STRATA_NOT_IMPLEMENTED", "--engine docker is not available yet");
}
