import { templateFromUser } from "@strata/graph";
import type { ts } from "ts-morph";
import { str } from "./literals.ts";

/**
 * The friendliest string the builders read back as `template`. Builders pass strings in
 * template positions through `templateFromUser`, where a backslash escapes only `$` and `\`:
 * so `C:\\Program Files` (a canonical escaped backslash) can be written `C:\Program Files`,
 * and `\$` before something that cannot start a reference as a bare `$`. Only the top level
 * is simplified (inside `${…}` the escaping rules differ); the result is checked, and the
 * template itself is used whenever the simpler text would read back differently.
 */
export function userText(template: string): string {
  if (!template.includes("\\")) return template;
  let out = "";
  let depth = 0;
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (depth > 0) {
      out += c;
      if (c === "\\" && i + 1 < template.length) out += template[++i];
      else if (c === "}") depth--;
      else if (c === "$" && template[i + 1] === "{") {
        out += "{";
        i++;
        depth++;
      }
      continue;
    }
    if (c === "$" && template[i + 1] === "{") {
      out += "${";
      i++;
      depth++;
      continue;
    }
    if (c !== "\\") {
      out += c;
      continue;
    }
    const next = template[i + 1];
    const after = template[i + 2];
    if (next === "\\") out += after === undefined || (after !== "\\" && after !== "$") ? "\\" : "\\\\";
    else if (next === "$") out += after !== undefined && /[A-Za-z_{]/.test(after) ? "\\$" : "$";
    else out += c + (next ?? "");
    i++;
  }
  return templateFromUser(out) === template ? out : template;
}

/** A template as a string literal in its friendliest spelling (see userText). */
export function tstr(template: string): ts.Expression {
  return str(userText(template));
}
