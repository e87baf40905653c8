import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { StrataError } from "@strata/graph";

const MAX_ENV_FILE = 1024 * 1024;

/**
 * Reads a `--env-file` as docker does: one `KEY=value` per line, taken literally (no quotes,
 * no expansion); a bare `KEY` takes its value from this environment (and is dropped when unset);
 * blank lines and lines starting with `#` are skipped. A key with white space is an error with
 * the file and line.
 */
export function readEnvFile(path: string, cwd: string, env: NodeJS.ProcessEnv): string[] {
  const file = resolve(cwd, path);
  let text: string;
  try {
    // A device or a huge file (`--env-file /dev/zero`) would be read forever: only regular files, 1 MiB at most.
    const st = statSync(file);
    if (!st.isFile() || st.size > MAX_ENV_FILE) {
      throw new StrataError("STRATA_RUN_ENV_FILE", `--env-file ${path}: ${st.isFile() ? `larger than ${MAX_ENV_FILE} bytes` : "not a regular file"}`);
    }
    text = readFileSync(file, "utf8");
  } catch (e) {
    if (e instanceof StrataError) throw e;
    throw new StrataError("STRATA_RUN_ENV_FILE", `--env-file ${path}: ${(e as Error).message}`, { cause: e });
  }
  const out: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/^\s+/, "");
    if (line === "" || line.startsWith("#")) return;
    const eq = line.indexOf("=");
    const key = eq < 0 ? line.trimEnd() : line.slice(0, eq);
    if (key === "" || /\s/.test(key)) {
      throw new StrataError("STRATA_RUN_ENV_FILE", `${file}:${i + 1}:1: ${JSON.stringify(key)} is not a variable name`, { hint: "lines are KEY=value or KEY" });
    }
    if (eq >= 0) out.push(line);
    else if (env[key] !== undefined) out.push(`${key}=${env[key]}`);
  });
  return out;
}
