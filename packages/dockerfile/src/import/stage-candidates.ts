import { expandTemplate, parseTemplate, TemplateError, type Segment } from "@strata/graph";

/**
 * The earlier stages a FROM value built from build args can name (BuildKit expands the value,
 * then looks it up among the stages): every stage whose name the template can produce. A
 * template with literal text (`binaries-$TARGETOS`) can produce the names that have that text
 * around the variable parts; a bare variable (`FROM $BASE`) is read as naming a stage only when
 * its default does, so ordinary `FROM $BASE_IMAGE` lines stay image references.
 */
export function stageCandidates<T>(ref: string, stages: ReadonlyMap<string, T>, args: ReadonlyArray<{ readonly name: string; readonly default: string | undefined }>): Array<[string, T]> {
  let segs: Segment[];
  try {
    segs = parseTemplate(ref);
  } catch (e) {
    if (e instanceof TemplateError) return [];
    throw e;
  }
  if (!segs.some((s) => s.type === "ref")) return [];
  const byDefault = defaultValue(ref, args)?.toLowerCase();
  const literal = segs.some((s) => s.type === "text" && s.value.length > 0);
  const pattern = literal ? namePattern(segs) : undefined;
  return [...stages].filter(([name]) => name === byDefault || (pattern?.test(name)));
}

/** What the template gives with every global arg at its default (undefined when it cannot be told). */
function defaultValue(ref: string, args: ReadonlyArray<{ readonly name: string; readonly default: string | undefined }>): string | undefined {
  const defaults = new Map(args.map((a) => [a.name, a.default]));
  try {
    return expandTemplate(ref, (n) => {
      const d = defaults.get(n);
      return d === undefined ? undefined : expandTemplate(d, (m) => defaults.get(m));
    });
  } catch {
    return undefined;
  }
}

/** The names a template can expand to: its literal text in order, anything in place of each variable. */
function namePattern(segs: readonly Segment[]): RegExp {
  const parts = segs.map((s) => (s.type === "text" ? s.value.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, "\\$&") : ".*"));
  return new RegExp(`^${parts.join("")}$`, "s");
}
