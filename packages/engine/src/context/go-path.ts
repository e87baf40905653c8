/**
 * Go's `path.Clean` (which is `filepath.Clean` on Linux): Docker cleans every `.dockerignore`
 * pattern and every COPY path with it, so the same spelling rules must hold here.
 */
export function cleanPath(p: string): string {
  if (p === "") return ".";
  const rooted = p.startsWith("/");
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
      continue;
    }
    out.push(part);
  }
  const body = out.join("/");
  if (rooted) return `/${body}`;
  return body === "" ? "." : body;
}

/** `path.Join("/", p)` without the leading slash: a root-relative path that never climbs above the root. */
export function rootRelative(p: string): string {
  const c = cleanPath(`/${p}`);
  return c === "/" ? "" : c.slice(1);
}

export function dirname(p: string): string {
  const i = p.lastIndexOf("/");
  return i < 0 ? "" : p.slice(0, i);
}

export function basename(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

export function joinRel(dir: string, name: string): string {
  return dir === "" ? name : name === "" ? dir : `${dir}/${name}`;
}

/** Compares the UTF-8 bytes of two strings, the order Go's sort and the layer writer use. */
function compareBytes(a: string, b: string): number {
  if (a === b) return 0;
  // For strings without surrogates, UTF-16 code unit order equals code point order equals
  // UTF-8 byte order; fall back to Buffer.compare only when a surrogate is present.
  if (!/[\ud800-\udfff]/.test(a) && !/[\ud800-\udfff]/.test(b)) return a < b ? -1 : 1;
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

const SURROGATE = /[\ud800-\udfff]/;

/** Sorts names in place by UTF-8 bytes (the default sort is already that without surrogates). */
export function sortBytes(names: string[]): string[] {
  for (const n of names) if (SURROGATE.test(n)) return names.sort(compareBytes);
  return names.sort();
}
