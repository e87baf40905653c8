/**
 * `RUN --mount=…` values (BuildKit's `instructions/commands_runmount.go`): a CSV list of
 * `key=value` fields. Values holding `$` are kept raw and checked only when the importer
 * expands them (BuildKit too validates after expansion).
 */
import { suggest } from "./flags.ts";
import type { MountType, ParsedMount } from "./types.ts";

const TYPES = new Set<MountType>(["bind", "cache", "tmpfs", "secret", "ssh"]);
const SHARING = new Set(["shared", "private", "locked"]);
const KEYS = ["type", "from", "source", "target", "readonly", "id", "sharing", "required", "mode", "uid", "gid", "src", "dst", "destination", "ro", "rw", "readwrite", "size", "env"];

export type MountResult = { mount: ParsedMount } | { error: string };

/** encoding/csv for one record (no lazy quotes, no leading-space trimming). */
function csvFields(s: string): string[] | string {
  if (s === "") return "EOF";
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (s[i] === '"') {
      let v = "";
      i++;
      for (;;) {
        const q = s.indexOf('"', i);
        if (q < 0) return `extraneous or missing " in quoted-field`;
        v += s.slice(i, q);
        if (s[q + 1] === '"') {
          v += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      out.push(v);
      if (i >= s.length) return out;
      if (s[i] !== ",") return `extraneous or missing " in quoted-field`;
      i++;
      continue;
    }
    const c = s.indexOf(",", i);
    const f = c < 0 ? s.slice(i) : s.slice(i, c);
    if (f.includes('"')) return `bare " in non-quoted field`;
    out.push(f);
    if (c < 0) return out;
    i = c + 1;
  }
}

function parseBool(v: string): boolean | undefined {
  // Go's strconv.ParseBool
  if (["1", "t", "T", "true", "TRUE", "True"].includes(v)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(v)) return false;
  return undefined;
}

function parseUint(v: string, base: 8 | 10): number | undefined {
  const re = base === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  // Go's ParseUint also accepts underscores only with base 0; none here.
  if (!re.test(v)) return undefined;
  const n = parseInt(v, base);
  return n <= 0xffffffff ? n : undefined;
}

/** docker/go-units RAMInBytes: `64m`, `1.5g`, `512kb`, `100` (binary multiples). */
function ramInBytes(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (!Number.isFinite(n)) return undefined;
  const mult: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  return Math.floor(n * (m[2] ? mult[m[2].toLowerCase()]! : 1));
}

export function parseMount(raw: string): MountResult {
  const fields = csvFields(raw);
  if (typeof fields === "string") return { error: `failed to parse csv mounts: ${fields}` };
  let type: MountType = "bind";
  let readOnly = false;
  let roAuto = true;
  const m: { -readonly [K in keyof ParsedMount]?: ParsedMount[K] } = {};
  const options: { key: string; value?: string }[] = [];
  for (const field of fields) {
    const eq = field.indexOf("=");
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      options.push({ key });
      switch (key) {
        case "readonly":
        case "ro":
          readOnly = true;
          roAuto = false;
          continue;
        case "readwrite":
        case "rw":
          readOnly = false;
          roAuto = false;
          continue;
        case "required":
          if (type === "secret" || type === "ssh") {
            m.required = true;
            continue;
          }
          return { error: `unexpected key '${key}' for mount type '${type}'` };
        default:
          return { error: `invalid field '${field}' must be a key=value pair` };
      }
    }
    const value = field.slice(eq + 1);
    options.push({ key, value });
    if (key === "from") {
      const d = value.indexOf("$");
      if (d !== -1 && d < value.length - 1) return { error: `'${key}' doesn't support variable expansion, define alias stage instead` };
    }
    // Expanded later: keep the raw value, check only what is literal.
    const dynamic = value.includes("$");
    switch (key) {
      case "type": {
        const t = value.toLowerCase() as MountType;
        if (dynamic) break;
        if (!TYPES.has(t)) {
          const near = suggest(t, [...TYPES]);
          return { error: `unsupported mount type "${value}"${near ? ` (did you mean ${near}?)` : ""}` };
        }
        type = t;
        break;
      }
      case "from":
        m.from = value;
        break;
      case "source":
      case "src":
        m.source = value;
        break;
      case "target":
      case "dst":
      case "destination":
        m.target = value;
        break;
      case "readonly":
      case "ro":
      case "readwrite":
      case "rw": {
        roAuto = false;
        if (dynamic) break;
        const b = parseBool(value);
        if (b === undefined) return { error: `invalid value for ${key}: ${value}` };
        readOnly = key === "readonly" || key === "ro" ? b : !b;
        break;
      }
      case "required": {
        if (type !== "secret" && type !== "ssh") return { error: `unexpected key '${key}' for mount type '${type}'` };
        if (dynamic) break;
        const b = parseBool(value);
        if (b === undefined) return { error: `invalid value for ${key}: ${value}` };
        m.required = b;
        break;
      }
      case "id":
        m.id = value;
        break;
      case "sharing": {
        if (dynamic) break;
        const s = value.toLowerCase();
        if (!SHARING.has(s)) return { error: `unsupported sharing value "${value}"` };
        m.sharing = s as "shared" | "private" | "locked";
        break;
      }
      case "mode":
      case "uid":
      case "gid": {
        if (dynamic) break;
        const n = parseUint(value, key === "mode" ? 8 : 10);
        if (n === undefined) return { error: `invalid value ${value} for ${key}` };
        m[key] = n;
        break;
      }
      case "size": {
        if (type !== "tmpfs") return { error: `size not allowed for "${type}" type mounts` };
        if (dynamic) break;
        const n = ramInBytes(value);
        if (n === undefined) return { error: `invalid value ${value} for size` };
        m.size = n;
        break;
      }
      case "env":
        m.env = value;
        break;
      default: {
        const near = suggest(key, KEYS);
        return { error: `unexpected key '${key}' in '${field}'${near ? ` (did you mean ${near}?)` : ""}` };
      }
    }
  }
  const fileInfo = type === "secret" || type === "ssh" || type === "cache";
  if (m.mode !== undefined && !fileInfo) return { error: `mode not allowed for "${type}" type mounts` };
  if (m.uid !== undefined && !fileInfo) return { error: `uid not allowed for "${type}" type mounts` };
  if (m.gid !== undefined && !fileInfo) return { error: `gid not allowed for "${type}" type mounts` };
  if (roAuto) readOnly = !(type === "cache" || type === "tmpfs");
  if (m.sharing !== undefined && type !== "cache") return { error: `invalid cache sharing set for ${type} mount` };
  if (type === "secret") {
    if (m.from !== undefined && m.from !== "") return { error: "secret mount should not have a from" };
    if (!m.source && !m.target && !m.id && !m.env) return { error: "invalid secret mount. one of source, target required" };
    if (m.source && m.id) return { error: "both source and id can't be set" };
  }
  return { mount: { raw, type, readOnly, readOnlyExplicit: !roAuto, options, ...m } as ParsedMount };
}
