import type { CommandSpec, ParsedArgs } from "../argv.ts";
import type { CliContext } from "../context.ts";

export interface CommandModule {
  readonly spec: CommandSpec;
  /** Rewrites the raw arguments before the common parser reads them (`strata run`'s docker-style command line). */
  readonly rewriteArgv?: (argv: readonly string[]) => string[];
  run(args: ParsedArgs, ctx: CliContext): Promise<number>;
}

/** The command table. Modules load lazily so `strata build` never pays for ts-morph. */
export const COMMANDS: ReadonlyArray<{ readonly name: string; readonly summary: string; readonly load: () => Promise<CommandModule> }> = [
  { name: "build", summary: "build an image natively (no Docker daemon): store, --output files, --load", load: () => import("./build.ts") },
  { name: "run", summary: "run an image as a container in Strata's sandbox (no Docker needed)", load: () => import("./run.ts") },
  { name: "rm", summary: "remove containers kept by strata run --name", load: () => import("./rm.ts") },
  { name: "images", summary: "list the images in the store: name, image ID, created, size, shared size", load: () => import("./images.ts") },
  { name: "inspect", summary: "show an image: config, manifest, layers and their steps; --layers: what each changes (dive)", load: () => import("./inspect.ts") },
  { name: "history", summary: "show the steps of an image, the layer each made and its size", load: () => import("./history.ts") },
  { name: "tag", summary: "give an image in the store another name", load: () => import("./tag.ts") },
  { name: "rmi", summary: "remove images from the store (names, then content nothing else uses)", load: () => import("./rmi.ts") },
  { name: "cache", summary: "show (du) or free (prune) the space Strata's store uses", load: () => import("./cache.ts") },
  { name: "graph", summary: "print the layer graph of an image module or Dockerfile (json, mermaid, dot)", load: () => import("./graph.ts") },
  { name: "init", summary: "scaffold an image module for a project (Node, Go, Python or minimal): app.image.ts, tsconfig, scripts", load: () => import("./init.ts") },
  { name: "check", summary: "type-check image modules with the TypeScript compiler", load: () => import("./check.ts") },
  { name: "dockerfile", summary: "write a target as a Dockerfile (or normalise a Dockerfile)", load: () => import("./dockerfile.ts") },
  { name: "import", summary: "convert a Dockerfile into a typed .image.ts module (verified: same graph digests)", load: () => import("./import.ts") },
  { name: "pull", summary: "pull an image from a registry into the store (verified), print its digest", load: () => import("./pull.ts") },
  { name: "push", summary: "push an image from the store to registries (compressed once, only missing blobs sent)", load: () => import("./push.ts") },
  { name: "login", summary: "log in to a registry (verified, stored in Docker's config.json)", load: () => import("./login.ts") },
  { name: "lock", summary: "pin every registry image to a digest in strata.lock (builds then ask no registry)", load: () => import("./lock.ts") },
  { name: "parse", summary: "parse a Dockerfile: diagnostics, BuildKit's tree dump, or the AST as JSON", load: () => import("./parse.ts") },
];
