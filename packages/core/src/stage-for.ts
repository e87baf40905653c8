import { narrowScope, SelectOp, StrataError, type ScopeEntry } from "@strata/graph";
import { argEntry, globalArgs, isArg, type Arg, type ArgValue } from "./arg.ts";
import { captureCallsite } from "./callsite.ts";
import { createImage, isImage, type Image } from "./image.ts";
import { tpl } from "./normalize.ts";

/** What a Dockerfile accepts as a stage name (BuildKit's rule), so every choice can be exported. */
const STAGE_NAME = /^[a-z][a-z0-9_.-]*$/;

/** Options of {@link stageFor}. */
export interface StageForOptions {
  /**
   * The image to start from when the value names none of the stages. Absent: such a build fails
   * with `STRATA_STAGE_SELECT`. (A Dockerfile reads the value as an image reference then, which
   * is what `strata import` writes: `otherwise: from(`base-${TARGETOS}`)`.)
   */
  readonly otherwise?: Image;
  /** Global build args the key may read; default: every `arg()` declared so far. */
  readonly args?: readonly Arg<ArgValue>[];
}

/**
 * Starts a stage from the stage a build arg names, chosen when the build's args are known
 * (Dockerfile `FROM binaries-$TARGETOS`, where `binaries-linux` and `binaries-darwin` are
 * earlier stages). The new stage gets the picked stage's files, config and history, as
 * `from(stage)` would; only the picked stage is built.
 *
 * `key` is an Arg (its value is a key of `stages`) or a template whose expanded value is:
 *
 * ```ts
 * const release = stageFor(TARGETOS, { linux: binariesLinux, darwin: binariesDarwin });
 * const same = stageFor(`binaries-${TARGETOS}`, { "binaries-linux": binariesLinux, "binaries-darwin": binariesDarwin });
 * ```
 *
 * Keys are Dockerfile stage names (lower-case letters, digits, `_`, `.`, `-`), so the
 * exported Dockerfile can name the stages and let BuildKit pick the same one. The key sees
 * the global args and the predefined platform args (TARGETOS, BUILDARCH, …), like a FROM line.
 */
export function stageFor(key: Arg<ArgValue> | string, stages: Readonly<Record<string, Image>>, options: StageForOptions = {}): Image {
  const location = captureCallsite();
  const bad = (message: string, hint: string) => new StrataError("STRATA_STAGE_SELECT", message, { hint, locations: [location()] });
  const keyTemplate = isArg(key) ? tpl(key) : typeof key === "string" ? tpl(key) : undefined;
  if (!keyTemplate?.trim()) throw bad("stageFor() needs an Arg or a template as its key", "e.g. stageFor(TARGETOS, { linux: linuxStage, darwin: darwinStage })");
  const entries = Object.entries(stages);
  if (!entries.length) throw bad("stageFor() needs at least one stage", "pass a record of stages: { linux: linuxStage }");
  for (const [name, image] of entries) {
    if (!STAGE_NAME.test(name)) throw bad(`stageFor(): ${JSON.stringify(name)} is not a stage name`, "use lower-case letters, digits, _, . and -, starting with a letter");
    if (!isImage(image)) throw bad(`stageFor(): ${JSON.stringify(name)} is not an Image`, "each value is an image made with from(), scratch() or another stage");
  }
  if (options.otherwise !== undefined && !isImage(options.otherwise)) throw bad("stageFor(): `otherwise` is not an Image", "e.g. otherwise: from(`base-${TARGETOS}`)");
  const visible: ScopeEntry[] = (options.args ?? [...globalArgs().values()]).map((a) => argEntry(a));
  const globals: ScopeEntry[] = visible.map((e) => ("arg" in e && "default" in e && e.default !== undefined ? { globalArg: e.arg, default: e.default } : { globalArg: (e as { arg: string }).arg }));
  const op = SelectOp.create({
    key: keyTemplate,
    candidates: entries.map(([name, image]) => ({ name, image: image.toDefinition() })),
    fallback: options.otherwise?.toDefinition(),
    scope: narrowScope(visible, [keyTemplate]),
    meta: { location },
  });
  return createImage({ rootfs: op, steps: [], scope: [], globals, cmdSet: false });
}
