import { formatPlatform, parsePlatform, StrataError, type ImageConfigFile, type Platform } from "@strata/graph";

const ARCH: Readonly<Record<string, string>> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64", loong64: "loong64" };

/** This host's platform as OCI names it. */
export function hostPlatform(): Platform {
  return { os: "linux", architecture: ARCH[process.arch] ?? process.arch };
}

/**
 * `--platform` and the image's own platform against the host's: a container of another
 * architecture needs emulation, which `strata run` does not do yet — a coded error instead of
 * an `exec format error` from the kernel.
 */
export function checkPlatform(config: ImageConfigFile, requested: string | undefined): void {
  const host = hostPlatform();
  const image: Platform = { os: config.os || "linux", architecture: config.architecture || host.architecture };
  if (requested !== undefined) {
    let want: Platform;
    try {
      want = parsePlatform(requested);
    } catch (e) {
      throw new StrataError("STRATA_USAGE", `--platform: ${(e as Error).message}`, { hint: "see `strata run --help`" });
    }
    if (want.os !== host.os || want.architecture !== host.architecture || want.os !== image.os || want.architecture !== image.architecture) {
      throw new StrataError(
        "STRATA_USAGE",
        `--platform ${formatPlatform(want)}: strata run runs only this host's platform (${formatPlatform(host)}) for now; the image is ${formatPlatform(image)}`,
        { hint: "emulated platforms are not supported yet; drop --platform or run an image built for this host" },
      );
    }
  }
  if (image.os !== host.os || image.architecture !== host.architecture) {
    throw new StrataError("STRATA_USAGE", `strata run cannot run ${formatPlatform(image)} images on this ${formatPlatform(host)} host yet (no emulation)`, {
      hint: "run an image built for this host's platform; emulated platforms are planned",
    });
  }
}
