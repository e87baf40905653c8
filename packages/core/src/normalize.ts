import { parseDuration, parsePortSpec, StrataError, templateFromUser, templateRefs, type Command, type HealthConfig } from "@strata/graph";
import { isArg, type Arg, type ArgValue } from "./arg.ts";
import { isShellCommand, type ShellCommand } from "./shell-command.ts";
import type { HealthcheckOptions, Mode, Owner, Port } from "./types.ts";

/** A user-facing value in template position: strings keep `$NAME` references, args read as `${NAME}`. */
export function tpl(value: string | number | boolean | Arg<ArgValue>): string {
  // Canonical spelling (`$NAME`), the same as the string "${NAME}" and a Dockerfile's `$NAME`.
  if (isArg(value)) return templateFromUser(`\${${value.name}}`);
  return typeof value === "string" ? templateFromUser(value) : String(value);
}

export function ownerTemplate(owner: Owner): string {
  if (typeof owner === "object") return owner.group === undefined ? tpl(owner.user) : `${tpl(owner.user)}:${tpl(owner.group)}`;
  return tpl(owner);
}

export function modeString(mode: Mode): string {
  if (typeof mode === "number") {
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new TypeError(`invalid mode ${mode}: expected 0o0 to 0o7777`);
    return mode.toString(8);
  }
  if (/^[0-7]{1,4}$/.test(mode)) return mode.replace(/^0+(?=.)/, "");
  if (/^([ugoa]*[-+=]([rwxXst]*|[ugo]))(,[ugoa]*[-+=]([rwxXst]*|[ugo]))*$/.test(mode)) return mode;
  throw new TypeError(`invalid mode ${JSON.stringify(mode)}: expected octal (0o755, "755") or symbolic ("u+x,go=r")`);
}

export function portTemplate(port: Port): string {
  if (isArg(port)) return templateFromUser(`\${${port.name}}`);
  const text = String(port);
  // A port read from a build arg or env var is checked when the build expands it.
  if (templateRefs(text).length) return templateFromUser(text);
  // The same check (and code, STRATA_BAD_PORT) as EXPOSE in a Dockerfile and at build time.
  parsePortSpec(text);
  if (text.includes(":")) throw new StrataError("STRATA_BAD_PORT", `invalid port ${JSON.stringify(text)}: expose() takes the container's port, not a host mapping`, { hint: 'write 8080, "8080/tcp" or "53/udp"' });
  return text.includes("/") ? text.toLowerCase() : `${text}/tcp`;
}

export function toCommand(value: readonly string[] | ShellCommand, what: string): Command {
  if (isShellCommand(value)) return { form: "shell", script: value.script };
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new TypeError(`${what} takes an array of strings (exec form) or sh("…") (shell form)`);
  }
  return { form: "exec", argv: Object.freeze([...value]) };
}

export function healthConfig(test: readonly string[] | ShellCommand | "none", opts: HealthcheckOptions): HealthConfig {
  if (test === "none") return { Test: ["NONE"] };
  const cmd = toCommand(test, "healthcheck");
  const dur = (d: string | undefined, name: string) => {
    if (d === undefined) return undefined;
    try {
      return parseDuration(d);
    } catch (e) {
      throw new StrataError("STRATA_BAD_DURATION", `healthcheck ${name}: ${(e as Error).message}`);
    }
  };
  const fields: Record<string, number | undefined> = {
    Interval: dur(opts.interval, "interval"),
    Timeout: dur(opts.timeout, "timeout"),
    StartPeriod: dur(opts.startPeriod, "startPeriod"),
    StartInterval: dur(opts.startInterval, "startInterval"),
    Retries: opts.retries,
  };
  const out: Record<string, unknown> = { Test: cmd.form === "exec" ? ["CMD", ...cmd.argv] : ["CMD-SHELL", cmd.script] };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== 0) out[k] = v;
  return out as unknown as HealthConfig;
}
