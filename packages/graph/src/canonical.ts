/**
 * Canonical JSON: the byte form every graph digest is taken over.
 *
 * Object keys are sorted by UTF-16 code unit, `undefined` members are dropped (so an
 * absent optional field and an explicit `undefined` hash the same), arrays keep their
 * order, and only finite numbers are allowed. Two values that mean the same thing must
 * encode to the same string, so nothing here may depend on insertion order.
 */
export type CanonicalValue =
  | null
  | boolean
  | number
  | string
  | readonly CanonicalValue[]
  | { readonly [key: string]: CanonicalValue | undefined };

export function canonicalJson(value: CanonicalValue | undefined): string {
  if (value === undefined) throw new TypeError("canonicalJson: undefined has no encoding");
  return encode(value);
}

function encode(value: CanonicalValue): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number ${value}`);
      return JSON.stringify(value);
    case "string":
      return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => encode(v as CanonicalValue)).join(",")}]`;
  const obj = value as { readonly [key: string]: CanonicalValue | undefined };
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${encode(obj[k] as CanonicalValue)}`).join(",")}}`;
}
