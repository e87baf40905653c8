import { resolveLocation, StrataError, type ErrorCode, type ExecOp, type LayerGraph, type SourceLocation } from "@strata/graph";

/** What a build may grant a RUN step beyond the sandbox (buildx's `--allow` values). */
export type Entitlement = "network.host" | "security.insecure";

/** Every entitlement, in the order `--help` lists them. */
export const ENTITLEMENTS: readonly Entitlement[] = ["network.host", "security.insecure"];

/**
 * Refuses a step that needs an entitlement the build was not given, as BuildKit does: `RUN
 * --network=host` needs `network.host`, `RUN --security=insecure` needs `security.insecure`. The
 * error points at the step and names the flag that grants it.
 */
export function checkEntitlements(op: ExecOp, allowed: readonly Entitlement[], loc: SourceLocation | undefined): void {
  const refuse = (code: ErrorCode, what: string, ent: Entitlement) =>
    new StrataError(code, `${what} needs the ${ent} entitlement, which this build was not given`, {
      ...(loc ? { locations: [loc] } : {}),
      hint: `pass --allow ${ent} to strata build if you trust this build with it`,
    });
  if (op.network === "host" && !allowed.includes("network.host")) {
    throw refuse("STRATA_ENTITLEMENT_NETWORK_HOST", "RUN --network=host", "network.host");
  }
  if (op.security === "insecure" && !allowed.includes("security.insecure")) {
    throw refuse("STRATA_ENTITLEMENT_SECURITY_INSECURE", "RUN --security=insecure", "security.insecure");
  }
}

/**
 * Checks every RUN step an image depends on before anything is pulled or run, so a build that
 * needs an entitlement it was not given fails at once (the same errors as {@link checkEntitlements}).
 */
export function checkGraphEntitlements(graph: LayerGraph, allowed: readonly Entitlement[]): void {
  for (const op of graph.nodes.values()) if (op.kind === "ExecOp") checkEntitlements(op, allowed, resolveLocation(op.meta));
}

/**
 * Reads `--allow` values (repeatable, each a comma list, as buildx takes them) into entitlements.
 * An unknown name throws `STRATA_ENTITLEMENT_UNKNOWN`.
 */
export function parseEntitlements(values: readonly string[]): Entitlement[] {
  const out: Entitlement[] = [];
  for (const v of values.flatMap((s) => s.split(","))) {
    const name = v.trim();
    if (!(ENTITLEMENTS as readonly string[]).includes(name)) {
      throw new StrataError("STRATA_ENTITLEMENT_UNKNOWN", `unknown entitlement ${JSON.stringify(name)} in --allow`, { hint: `use ${ENTITLEMENTS.join(" or ")}` });
    }
    if (!out.includes(name as Entitlement)) out.push(name as Entitlement);
  }
  return out;
}
