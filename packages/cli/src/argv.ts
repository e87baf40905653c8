import { StrataError } from "@strata/graph";

/** One option of a command, as `--name value`, `--name=value`, `-n value` or a boolean `--name`. */
export interface OptionSpec {
  readonly name: string;
  readonly short?: string;
  /** `list` options repeat (`-t a -t b`); `boolean` ones take no value. */
  readonly type: "string" | "boolean" | "list";
  readonly values?: readonly string[];
  readonly placeholder?: string;
  readonly description: string;
}

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly description?: string;
  readonly options: readonly OptionSpec[];
  readonly examples?: readonly string[];
  /** Flags of the docker command of the same name that this one lacks: name → why (a usage error, not "unknown"). */
  readonly unsupported?: Readonly<Record<string, string>>;
  /** Positional arguments: min and max count. */
  readonly positionals?: { readonly min: number; readonly max: number };
}

export interface ParsedArgs {
  readonly options: Readonly<Record<string, string | boolean | readonly string[] | undefined>>;
  readonly positionals: readonly string[];
  /** Everything after a bare `--`. */
  readonly rest: readonly string[];
}

/** Flags every command accepts. */
const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { name: "help", short: "h", type: "boolean", description: "show this help" },
  { name: "debug", type: "boolean", description: "print stack traces of internal errors" },
];

export function usageError(message: string, spec?: CommandSpec): StrataError {
  return new StrataError("STRATA_USAGE", message, { hint: spec ? `see \`strata ${spec.name} --help\`` : "see `strata --help`" });
}

export function parseArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const all = [...spec.options, ...GLOBAL_OPTIONS];
  const byName = new Map(all.map((o) => [o.name, o]));
  const byShort = new Map(all.filter((o) => o.short).map((o) => [o.short!, o]));
  const options: Record<string, string | boolean | string[] | undefined> = {};
  const positionals: string[] = [];
  let rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      rest = argv.slice(i + 1);
      break;
    }
    let opt: OptionSpec | undefined;
    let inline: string | undefined;
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      inline = eq >= 0 ? a.slice(eq + 1) : undefined;
      opt = byName.get(name);
      if (!opt) throw unknownOption(`--${name}`, name, all, spec);
    } else if (a.startsWith("-") && a.length > 1) {
      opt = byShort.get(a.slice(1, 2));
      if (!opt) throw unknownOption(a, undefined, all, spec);
      if (a.length > 2) inline = a.slice(2).replace(/^=/, "");
    } else {
      positionals.push(a);
      continue;
    }
    if (opt.type === "boolean") {
      if (inline !== undefined && !/^(true|false)$/.test(inline)) throw usageError(`--${opt.name} takes no value`, spec);
      options[opt.name] = inline === undefined ? true : inline === "true";
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw usageError(`--${opt.name} needs a value${opt.placeholder ? ` (${opt.placeholder})` : ""}`, spec);
    if (opt.values && !opt.values.includes(value)) throw usageError(`--${opt.name} must be one of ${opt.values.join(", ")} (got ${JSON.stringify(value)})`, spec);
    if (opt.type === "list") {
      options[opt.name] ??= [] as string[];
      (options[opt.name] as string[]).push(value);
    }
    else options[opt.name] = value;
  }
  const p = spec.positionals ?? { min: 0, max: 0 };
  if (!options.help) {
    if (positionals.length < p.min) throw usageError(`missing argument: ${spec.usage}`, spec);
    if (positionals.length > p.max) throw usageError(`unexpected argument ${JSON.stringify(positionals[p.max])}`, spec);
  }
  return { options, positionals, rest };
}

/** "unknown option", a docker flag this command lacks, or a typo with its likeliest correction. */
function unknownOption(text: string, name: string | undefined, all: readonly OptionSpec[], spec: CommandSpec): StrataError {
  const why = name !== undefined ? spec.unsupported?.[name] : undefined;
  if (why) return new StrataError("STRATA_USAGE", why, { hint: `see \`strata ${spec.name} --help\` for the options Strata has` });
  const near = name === undefined ? undefined : closest(name, all.map((o) => o.name));
  return new StrataError("STRATA_USAGE", `unknown option ${text}`, { hint: near ? `did you mean --${near}?` : `see \`strata ${spec.name} --help\`` });
}

/** The candidate within a small edit distance of `word` (a third of its length, at least 1), if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

export function formatHelp(spec: CommandSpec): string {
  const lines = [`Usage: ${spec.usage}`, "", spec.summary];
  if (spec.description) lines.push("", spec.description);
  const opts = [...spec.options, ...GLOBAL_OPTIONS];
  lines.push("", "Options:");
  const left = opts.map((o) => `${o.short ? `-${o.short}, ` : "    "}--${o.name}${o.type === "boolean" ? "" : ` ${o.placeholder ?? o.name.toUpperCase()}`}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  opts.forEach((o, i) => {
    const values = o.values ? ` (${o.values.join("|")})` : "";
    const repeat = o.type === "list" ? " (repeatable)" : "";
    lines.push(`  ${left[i]!.padEnd(width)}${o.description}${values}${repeat}`);
  });
  if (spec.examples?.length) lines.push("", "Examples:", ...spec.examples.map((e) => `  ${e}`));
  return `${lines.join("\n")}\n`;
}
