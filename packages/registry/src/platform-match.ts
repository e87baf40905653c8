import type { Platform } from "@strata/graph";
import { hostPlatform as machinePlatform, type Descriptor } from "@strata/oci";

/**
 * Platform normalisation and matching after containerd's `platforms` package: `x86_64` is
 * `amd64` (whose `v1` variant is the baseline, so it is dropped), `aarch64` is `arm64`
 * (whose baseline variant `v8` is made explicit, so `arm64` and `arm64/v8` compare equal),
 * `arm` defaults to `v7`. A host can run older variants of its own architecture, so the
 * matcher ranks candidates: exact first, then compatible ones, newest first.
 */
export function normalizePlatform(p: Platform): Platform {
  const os = normalizeOs(p.os);
  let arch = p.architecture.toLowerCase();
  let variant = (p.variant ?? "").toLowerCase();
  switch (arch) {
    case "i386":
    case "x86":
      arch = "386";
      variant = "";
      break;
    case "x86_64":
    case "x86-64":
    case "amd64":
      arch = "amd64";
      if (variant === "v1") variant = "";
      break;
    case "aarch64":
    case "arm64":
      arch = "arm64";
      if (variant === "" || variant === "8" || variant === "v8" || variant === "v8.0") variant = "v8";
      else if (variant === "9" || variant === "9.0" || variant === "v9.0") variant = "v9";
      break;
    case "armhf":
      arch = "arm";
      variant = "v7";
      break;
    case "armel":
      arch = "arm";
      variant = "v6";
      break;
    case "arm":
      if (variant === "" || variant === "7") variant = "v7";
      else if (/^[568]$/.test(variant)) variant = `v${variant}`;
      break;
  }
  return variant ? { os, architecture: arch, variant } : { os, architecture: arch };
}

function normalizeOs(os: string): string {
  const l = os.toLowerCase();
  return l === "macos" ? "darwin" : l;
}

/** The platform of this Node process (what `docker pull` would pick here): @strata/oci's architecture names. */
export function hostPlatform(): Platform {
  // Containers are Linux on a Linux host; elsewhere Docker runs a Linux VM too.
  const os = process.platform === "win32" ? "windows" : process.platform === "darwin" ? "linux" : process.platform;
  return normalizePlatform({ ...machinePlatform(), os });
}

/** Platforms `target` can run, best first (containerd's `platformVector`). */
export function compatiblePlatforms(target: Platform): Platform[] {
  const t = normalizePlatform(target);
  const out: Platform[] = [t];
  const vnum = (v: string | undefined): number => Number.parseInt((v ?? "").replace(/^v/, ""), 10);
  switch (t.architecture) {
    case "amd64": {
      const n = vnum(t.variant);
      if (Number.isFinite(n)) for (let k = n - 1; k >= 2; k--) out.push({ os: t.os, architecture: "amd64", variant: `v${k}` });
      if (t.variant) out.push({ os: t.os, architecture: "amd64" });
      out.push({ os: t.os, architecture: "386" });
      break;
    }
    case "arm": {
      const n = vnum(t.variant);
      if (Number.isFinite(n)) for (let k = n - 1; k >= 5; k--) out.push({ os: t.os, architecture: "arm", variant: `v${k}` });
      break;
    }
    case "arm64": {
      // An arm64 host runs 32-bit arm binaries of any variant up to v8.
      for (let k = 8; k >= 5; k--) out.push({ os: t.os, architecture: "arm", variant: `v${k}` });
      break;
    }
  }
  return out;
}

function samePlatform(a: Platform, b: Platform): boolean {
  return a.os === b.os && a.architecture === b.architecture && (a.variant ?? "") === (b.variant ?? "");
}

/**
 * The index entry to use for `target`: the best-ranked compatible one; among equals, the
 * first listed (as containerd does). Entries without a platform (attestations) never match.
 */
export function selectManifest<D extends Descriptor>(manifests: readonly D[], target: Platform): D | undefined {
  const ranked = compatiblePlatforms(target);
  let best: D | undefined;
  let bestRank = Number.POSITIVE_INFINITY;
  for (const d of manifests) {
    if (!d.platform) continue;
    const p = normalizePlatform(d.platform);
    const rank = ranked.findIndex((r) => samePlatform(r, p));
    if (rank !== -1 && rank < bestRank) {
      best = d;
      bestRank = rank;
    }
  }
  return best;
}
