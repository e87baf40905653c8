import { isAbsolute, resolve } from "node:path";
import { StrataError, type ImageTransport } from "@strata/graph";
import { lockKey } from "./lockfile.ts";

/** Where an overridden reference's image comes from instead. */
export interface ImageOverride {
  readonly transport: ImageTransport;
  /** A registry reference, a daemon image name, or an absolute path with an optional `:ref`. */
  readonly ref: string;
  /** What the user wrote (for messages). */
  readonly text: string;
}

const TRANSPORTS: readonly ImageTransport[] = ["oci-layout", "oci-archive", "docker-archive", "docker-daemon", "registry"];

function usage(message: string): StrataError {
  return new StrataError("STRATA_USAGE", message, {
    hint: "write --image REF=SOURCE with SOURCE one of oci-layout:PATH[:ref], oci-archive:PATH, docker-archive:PATH[:tag], docker-daemon:NAME, registry:OTHER/REF",
  });
}

/**
 * Parses `--image REF=SOURCE` overrides (air-gapped builds, mirrors of one image, a locally
 * built base). REF is matched after normalisation (`node:22` is `docker.io/library/node:22`),
 * exactly: a bare name means its `latest` tag. Relative paths are taken from `cwd`.
 */
export function parseImageOverrides(list: readonly string[], cwd: string): Map<string, ImageOverride> {
  const out = new Map<string, ImageOverride>();
  for (const item of list) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw usage(`--image ${item}: expected REF=SOURCE`);
    const refText = item.slice(0, eq);
    const source = item.slice(eq + 1);
    let key: string;
    try {
      key = lockKey(refText);
    } catch (e) {
      throw usage(`--image ${item}: ${(e as Error).message}`);
    }
    const colon = source.indexOf(":");
    const transport = source.slice(0, colon) as ImageTransport;
    if (colon <= 0 || !TRANSPORTS.includes(transport)) throw usage(`--image ${item}: unknown source ${JSON.stringify(source)}`);
    let ref = source.slice(colon + 1);
    if (!ref) throw usage(`--image ${item}: the source names nothing`);
    if (transport === "registry") {
      try {
        lockKey(ref);
      } catch (e) {
        throw usage(`--image ${item}: ${(e as Error).message}`);
      }
    } else if (transport !== "docker-daemon" && !isAbsolute(ref)) {
      ref = resolve(cwd, ref);
    }
    if (out.has(key)) throw usage(`--image: ${refText} is overridden twice`);
    out.set(key, { transport, ref, text: source });
  }
  return out;
}

/** The override for a reference, if any. */
export function findOverride(overrides: ReadonlyMap<string, ImageOverride> | undefined, ref: string): ImageOverride | undefined {
  if (!overrides?.size) return undefined;
  try {
    return overrides.get(lockKey(ref));
  } catch {
    return undefined;
  }
}
