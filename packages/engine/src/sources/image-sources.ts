import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { StrataError, type Digest, type ImageConfigFile, type ImageTransport, type Platform } from "@strata/graph";
import { readDockerArchive, readOciLayout, type OciImage } from "@strata/oci";

const run = promisify(execFile);

/** An image source with its reference expanded (build args resolved). */
export interface ImageSpec {
  readonly transport: ImageTransport;
  readonly ref: string;
  readonly platform: Platform;
}

/** What a base image gives a build: the raw config, and its layers as streams of their blobs. */
export interface LoadedImage {
  readonly manifestDigest: Digest;
  readonly configBytes: Uint8Array;
  readonly config: ImageConfigFile;
  readonly layers: ReadonlyArray<{ readonly diffId: Digest; open(): Promise<Readable> }>;
  /** Called when the build no longer needs the source (temp files). */
  dispose?(): void;
}

/**
 * Resolving is split from loading so a fully cached build never reads (or downloads) a base
 * image: `key` is cheap (a manifest digest, an image ID), `load` happens only on a miss.
 */
export interface ResolvedImage {
  readonly key: string;
  load(): Promise<LoadedImage>;
}

export interface ImageResolver {
  resolve(spec: ImageSpec): Promise<ResolvedImage>;
}

function fromOci(img: OciImage): LoadedImage {
  return {
    manifestDigest: img.manifestDigest,
    configBytes: img.configBytes,
    config: img.config,
    layers: img.layers.map((l) => ({ diffId: l.diffId, open: () => l.open() })),
  };
}

/** `path[:ref]` → path and ref, where the ref part has no slash (`./dir:v1`, `base.tar:app:1.0`). */
export function splitPathRef(text: string): { path: string; ref?: string } {
  const colon = text.indexOf(":");
  if (colon < 0) return { path: text };
  const ref = text.slice(colon + 1);
  return ref && !ref.includes("/") ? { path: text.slice(0, colon), ref } : { path: text };
}

/**
 * Local images: an OCI layout (directory) or OCI archive (tar), a `docker save` archive, or an
 * image in the local Docker daemon. Paths are relative to the image file's directory.
 */
export class LocalImageResolver implements ImageResolver {
  constructor(private readonly baseDir: string) {}

  async resolve(spec: ImageSpec): Promise<ResolvedImage> {
    switch (spec.transport) {
      case "oci-layout":
      case "oci-archive": {
        const { path, ref } = splitPathRef(spec.ref);
        const abs = isAbsolute(path) ? path : resolve(this.baseDir, path);
        const img = await readOciLayout(abs, { ...(ref ? { ref } : {}), platform: spec.platform });
        return { key: img.manifestDigest, load: async () => fromOci(img) };
      }
      case "docker-archive": {
        const { path, ref } = splitPathRef(spec.ref);
        const abs = isAbsolute(path) ? path : resolve(this.baseDir, path);
        const img = await readDockerArchive(abs, ref ? { tag: ref } : {});
        return { key: img.manifestDigest, load: async () => fromOci(img) };
      }
      case "docker-daemon":
        return dockerDaemonImage(spec.ref);
      case "registry":
        throw new StrataError("STRATA_INTERNAL", "registry images go to the registry resolver");
    }
  }
}

const DOCKER = process.env.STRATA_DOCKER ?? "/usr/bin/docker";

/** An image in the local Docker daemon, keyed by its image ID; `docker save` only on a cache miss. */
async function dockerDaemonImage(ref: string): Promise<ResolvedImage> {
  let id: string;
  try {
    id = (await run(DOCKER, ["image", "inspect", "--format", "{{.Id}}", ref])).stdout.trim();
  } catch (e) {
    const msg = (e as { stderr?: string }).stderr?.trim() || (e as Error).message;
    throw new StrataError("STRATA_IMAGE_NOT_FOUND", `the Docker daemon has no image ${JSON.stringify(ref)}: ${msg}`, {
      hint: "check `docker images`, or start dockerd (dockerDaemon(…) reads from the local daemon)",
    });
  }
  return {
    key: `docker-daemon:${id}`,
    load: async () => {
      const dir = mkdtempSync(join(process.env.TMPDIR ?? "/tmp", "strata-docker-save-"));
      const file = join(dir, "image.tar");
      try {
        await run(DOCKER, ["save", "-o", file, ref], { maxBuffer: 1 << 20 });
        const img = await readDockerArchive(file);
        return { ...fromOci(img), dispose: () => rmSync(dir, { recursive: true, force: true }) };
      } catch (e) {
        rmSync(dir, { recursive: true, force: true });
        throw e;
      }
    },
  };
}
