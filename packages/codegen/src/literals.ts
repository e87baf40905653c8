import { ts } from "ts-morph";

/**
 * Expression nodes for the generated module, built with the compiler's factory so that
 * escaping is the compiler's (never hand-quoted strings), and printed one at a time.
 */
const f = ts.factory;

// `neverAsciiEscape` (an internal printer option) keeps non-ASCII text as written instead of \uXXXX.
const printer = ts.createPrinter({ newLine: ts.NewLineKind.LineFeed, neverAsciiEscape: true, removeComments: false } as ts.PrinterOptions);
const PRINT_CONTEXT = ts.createSourceFile("print.ts", "", ts.ScriptTarget.ESNext, false, ts.ScriptKind.TS);

export function print(node: ts.Node): string {
  return printer.printNode(ts.EmitHint.Expression, node, PRINT_CONTEXT);
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

const isIdentifierName = (s: string): boolean => IDENTIFIER.test(s);

export function id(name: string): ts.Identifier {
  return f.createIdentifier(name);
}

/**
 * A string as the most readable literal with exactly that value: a template literal with real
 * line breaks when it has some, else double quotes (single quotes when that saves escapes).
 */
export function str(value: string): ts.Expression {
  const raw = rawString(value);
  if (raw) return raw;
  if (value.includes("\n") && !value.includes("\r")) return templateLiteral(value, escapeTemplate(value));
  const single = value.includes('"') && !value.includes("'");
  return f.createStringLiteral(value, single);
}

/**
 * `` String.raw`…` `` for a value with several backslashes (`sed 's/\\//-/g'`, `\( -type d`): it
 * reads as the Dockerfile does instead of doubling each one. Only where the raw text is the
 * value exactly: no backtick, no `${`, no carriage return or other control character, and
 * no backslash at the end (it would escape the closing backtick).
 */
function rawString(value: string): ts.Expression | undefined {
  const backslashes = value.split("\\").length - 1;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a raw template literal cannot carry control characters, so this tests for them
  if (backslashes < 2 || /[`\r]|\$\{|\\$/.test(value) || /[\x00-\x08\x0b-\x1f\x7f]/.test(value)) return undefined;
  let literal: ts.NoSubstitutionTemplateLiteral;
  try {
    // The factory cooks the raw text itself; a raw text with no cooked value (`\u` not followed by hex) is refused.
    literal = f.createNoSubstitutionTemplateLiteral(undefined as unknown as string, value);
  } catch {
    return undefined;
  }
  return f.createTaggedTemplateExpression(f.createPropertyAccessExpression(f.createIdentifier("String"), "raw"), undefined, literal);
}

/** A template literal with the given raw text; the compiler checks that `raw` cooks to `value`. */
export function templateLiteral(value: string, raw: string): ts.Expression {
  return f.createNoSubstitutionTemplateLiteral(value, raw);
}

/** Raw template-literal text for a value: `\`, `` ` `` and `${` escaped, control characters as `\xNN`. */
export function escapeTemplate(value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    const code = c.charCodeAt(0);
    if (c === "\\" || c === "`") out += `\\${c}`;
    else if (c === "$" && value[i + 1] === "{") out += "\\$";
    else if (c === "\r") out += "\\r";
    else if ((code < 0x20 && c !== "\n" && c !== "\t") || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += c;
  }
  return out;
}

export function num(n: number): ts.Expression {
  return f.createNumericLiteral(n);
}

/** Permission bits read best in octal: `0o755`. */
export function octal(n: number): ts.Expression {
  return f.createNumericLiteral(`0o${n.toString(8)}`);
}

export function bool(b: boolean): ts.Expression {
  return b ? f.createTrue() : f.createFalse();
}

export function arr(items: readonly ts.Expression[], multiLine = false): ts.Expression {
  return f.createArrayLiteralExpression([...items], multiLine);
}

/** An object literal; keys that are not identifiers are quoted, `__proto__` is computed (a literal key would set the prototype). */
export function obj(props: ReadonlyArray<readonly [string, ts.Expression]>, multiLine = false): ts.Expression {
  return f.createObjectLiteralExpression(
    props.map(([k, v]) => f.createPropertyAssignment(propertyName(k), v)),
    multiLine,
  );
}

function propertyName(key: string): ts.PropertyName {
  if (key === "__proto__") return f.createComputedPropertyName(f.createStringLiteral(key));
  if (isIdentifierName(key)) return f.createIdentifier(key);
  return f.createStringLiteral(key);
}

export function call(callee: string | ts.Expression, args: readonly ts.Expression[]): ts.Expression {
  return f.createCallExpression(typeof callee === "string" ? id(callee) : callee, undefined, [...args]);
}

export function method(target: ts.Expression, name: string, args: readonly ts.Expression[]): ts.Expression {
  return f.createCallExpression(f.createPropertyAccessExpression(target, name), undefined, [...args]);
}

/** `value as Type`: only where a template (`$PORT`) cannot have the literal type the builder asks for. */
export function cast(value: ts.Expression, type: string): ts.Expression {
  return f.createAsExpression(value, f.createTypeReferenceNode(type));
}

/** `value as \`sha256:${string}\``: a checksum read from a variable. */
export function castSha256(value: ts.Expression): ts.Expression {
  const type = f.createTemplateLiteralType(f.createTemplateHead("sha256:"), [
    f.createTemplateLiteralTypeSpan(f.createKeywordTypeNode(ts.SyntaxKind.StringKeyword), f.createTemplateTail("")),
  ]);
  return f.createAsExpression(value, type);
}

/**
 * A template literal with interpolations: `parts` alternate text and expressions, starting and
 * ending with text (`` `node:${NODE_VERSION}-alpine` ``).
 */
export function interpolate(texts: readonly string[], exprs: readonly ts.Expression[]): ts.Expression {
  if (!exprs.length) return str(texts[0] ?? "");
  const head = f.createTemplateHead(texts[0]!, escapeTemplate(texts[0]!));
  const spans = exprs.map((e, i) => {
    const text = texts[i + 1] ?? "";
    const raw = escapeTemplate(text);
    return f.createTemplateSpan(e, i === exprs.length - 1 ? f.createTemplateTail(text, raw) : f.createTemplateMiddle(text, raw));
  });
  return f.createTemplateExpression(head, spans);
}

/** An options object, or nothing when every option is absent (so `run(cmd)` rather than `run(cmd, {})`). */
export function options(props: ReadonlyArray<readonly [string, ts.Expression | undefined]>): ts.Expression | undefined {
  const present = props.filter((p): p is readonly [string, ts.Expression] => p[1] !== undefined);
  if (!present.length) return undefined;
  const single = obj(present);
  return present.length > 3 || print(single).length > 72 ? obj(present, true) : single;
}
