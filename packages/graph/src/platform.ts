/** An OCI platform. `variant` only where it matters (arm/v7, arm64/v8). */
export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** Operating systems and architectures Strata names in types; any other string still parses. */
export type KnownOs = "linux" | "windows" | "freebsd" | "darwin";
export type KnownArch =
  | "amd64"
  | "arm64"
  | "arm64/v8"
  | "arm"
  | "arm/v5"
  | "arm/v6"
  | "arm/v7"
  | "386"
  | "ppc64le"
  | "s390x"
  | "riscv64"
  | "mips64le"
  | "loong64";

/** `linux/amd64`, `linux/arm/v7`, …; a typo such as `linux/amd46` is a compile error. */
export type PlatformString = `${KnownOs}/${KnownArch}`;

export function parsePlatform(text: string): Platform {
  const parts = text.trim().split("/");
  const [os, architecture, variant] = parts;
  if (parts.length < 2 || parts.length > 3 || !os || !architecture || (parts.length === 3 && !variant)) {
    throw new TypeError(`invalid platform ${JSON.stringify(text)}: expected os/arch[/variant], e.g. linux/amd64`);
  }
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

export function platformsEqual(a: Platform, b: Platform): boolean {
  return a.os === b.os && a.architecture === b.architecture && (a.variant ?? "") === (b.variant ?? "");
}
