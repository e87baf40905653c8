import { parseArgs, formatHelp, usageError } from "./argv.ts";
import { COMMANDS } from "./commands/index.ts";
import type { CliContext } from "./context.ts";
import { errorLine, wantsJson } from "./ui/json-progress.ts";
import { reportError } from "./ui/report-error.ts";
import { VERSION } from "./version.ts";

const TOP_HELP = () =>
  [
    "strata: container images as typed TypeScript code",
    "",
    "Usage: strata <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(12)}${c.summary}`),
    "",
    "Run `strata <command> --help` for a command's options.",
    "",
    "Exit status: 0 success; 1 the command failed (errors are printed with a code, the",
    "file:line:col and a hint); 2 invalid usage; 70 an internal error (a bug; --debug shows the stack).",
    "",
    "Bounds on hostile input (README \"Bounds\"; sizes take k/m/g): STRATA_MAX_WORD_BYTES (one expanded",
    "word, 1m), STRATA_MAX_LAYER_BYTES (32g) and STRATA_MAX_LAYER_ENTRIES (2000000) per layer,",
    "STRATA_REGISTRY_DEADLINE (seconds per request, 300), STRATA_REGISTRY_MIN_RATE (blob bytes/s, 64k),",
    "STRATA_REGISTRY_RETRY_AFTER_MAX (seconds, 60).",
    "",
  ].join("\n");

/** Runs one CLI invocation and returns its exit status; never throws. */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  const debug = argv.includes("--debug");
  try {
    const [name, ...rest] = argv;
    if (!name || name === "--help" || name === "-h" || name === "help") {
      ctx.stdout(TOP_HELP());
      return 0;
    }
    if (name === "--version" || name === "version") {
      ctx.stdout(`strata ${VERSION}\n`);
      return 0;
    }
    const entry = COMMANDS.find((c) => c.name === name);
    if (!entry) throw usageError(`unknown command ${JSON.stringify(name)}`);
    const cmd = await entry.load();
    const args = parseArgs(cmd.spec, cmd.rewriteArgv ? cmd.rewriteArgv(rest) : rest);
    if (args.options.help) {
      ctx.stdout(formatHelp(cmd.spec));
      return 0;
    }
    return await cmd.run(args, ctx);
  } catch (e) {
    // `--progress json`: the stream stays JSON Lines to the end, the error included.
    if (argv[0] === "build" && wantsJson(argv)) {
      const code = reportError(e, { stderr: () => {}, color: false, debug: false });
      ctx.stderr(errorLine(e, code));
      return code;
    }
    return reportError(e, { stderr: ctx.stderr, color: ctx.color, debug });
  }
}
