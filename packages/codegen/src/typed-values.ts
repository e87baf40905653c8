import type { ts } from "ts-morph";
import { formatDuration } from "@strata/graph";
import { core, type GenContext } from "./context.ts";
import { cast, id, num, obj, octal, str } from "./literals.ts";
import { PLATFORM_ARGS, type CoreName } from "./names.ts";
import { tstr } from "./template-text.ts";

/**
 * Values whose builder parameter has a literal type (ports, signals, durations, platforms,
 * owners, modes). Each is written in the typed form when that gives the builder the same
 * string the importer's template gives it, and as `"…" as Type` only when it reads a variable.
 */
const canonicalInt = (s: string) => /^(0|[1-9]\d{0,9})$/.test(s);

/** `80` (the builder adds `/tcp`), `"53/udp"`, `"8000-8010"`, or `"$PORT" as Port`. */
export function portExpr(ctx: GenContext, port: string): ts.Expression {
  const m = /^(\d+)(?:\/tcp)?$/i.exec(port);
  if (m && canonicalInt(m[1]!)) return num(Number(m[1]));
  const lower = port.toLowerCase();
  const typed = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/.exec(lower);
  if (typed && canonicalInt(typed[1]!) && (typed[2] === undefined || canonicalInt(typed[2]))) return str(lower);
  core(ctx, "Port");
  return cast(tstr(port), "Port");
}

export function signalExpr(ctx: GenContext, signal: string): ts.Expression {
  if (canonicalInt(signal)) return num(Number(signal));
  if (/^SIG/.test(signal) && !signal.includes("$")) return str(signal);
  core(ctx, "Signal");
  return cast(tstr(signal), "Signal");
}

/** A user: `1000`, `{ user: 1000, group: 1000 }` or a name (the builder writes all three back the same). */
export function ownerExpr(user: string): ts.Expression {
  if (canonicalInt(user)) return num(Number(user));
  const m = /^(\d+):(\d+)$/.exec(user);
  if (m && canonicalInt(m[1]!) && canonicalInt(m[2]!)) return obj([["user", num(Number(m[1]))], ["group", num(Number(m[2]))]]);
  return tstr(user);
}

/** `--chmod=755` → `0o755`; symbolic modes stay strings. */
export function modeExpr(mode: string): ts.Expression {
  return /^[0-7]{1,4}$/.test(mode) ? octal(parseInt(mode, 8)) : str(mode);
}

const UNITS = [["h", 3600e9], ["m", 60e9], ["s", 1e9], ["ms", 1e6], ["us", 1e3], ["ns", 1]] as const;

/**
 * A HEALTHCHECK duration: the builder parses it back to nanoseconds, so any spelling of the
 * same length will do; pick Go's (`1m30s`) when the Duration type accepts it, else one unit (`5410s`).
 */
export function durationExpr(nanoseconds: number): ts.Expression {
  const go = formatDuration(nanoseconds);
  if (/^\d+(ns|us|ms|s|m|h)$/.test(go) || /^\d+m\d+s$/.test(go) || /^\d+h\d+m$/.test(go)) return str(go);
  for (const [unit, size] of UNITS) if (nanoseconds % size === 0) return str(`${nanoseconds / size}${unit}`);
  return str(`${nanoseconds}ns`);
}

const KNOWN_OS = new Set(["linux", "windows", "freebsd", "darwin"]);
const KNOWN_ARCH = new Set(["amd64", "arm64", "arm64/v8", "arm", "arm/v5", "arm/v6", "arm/v7", "386", "ppc64le", "s390x", "riscv64", "mips64le", "loong64"]);

/** `"linux/amd64"` (typed), or `"$BUILDPLATFORM" as PlatformString`. */
export function platformExpr(ctx: GenContext, platform: string): ts.Expression {
  const slash = platform.indexOf("/");
  if (slash > 0 && KNOWN_OS.has(platform.slice(0, slash)) && KNOWN_ARCH.has(platform.slice(slash + 1))) return str(platform);
  // `$BUILDPLATFORM` is the Arg itself (a platform may be an Arg<string>): no cast needed.
  const whole = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$/.exec(platform);
  const name = whole ? (whole[1] ?? whole[2])! : undefined;
  if (name !== undefined && ctx.globalConsts.has(name)) return id(ctx.globalConsts.get(name)!);
  if (name !== undefined && PLATFORM_ARGS.has(name)) return core(ctx, name as CoreName);
  core(ctx, "PlatformString");
  return cast(tstr(platform), "PlatformString");
}
