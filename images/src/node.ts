import { cache, context, from, type Directory, type Duration, type Image } from "@strata/core";

/** Node.js release lines with official images; a typo such as `"23"` is a compile error. */
export type NodeVersion = "20" | "22" | "24";
/** Debian variants of the official node images. */
export type NodeVariant = "slim" | "bookworm" | "bookworm-slim" | "alpine";

/** Options of `nodeBase()`: which official node image (`node:<version>-<variant>`). */
export interface NodeBaseOptions {
  /** The Node.js release line: `"22"` is `node:22-…`. */
  readonly version: NodeVersion;
  /** The image variant (default `slim`): `alpine` is smaller but uses musl, `bookworm` has build tools. */
  readonly variant?: NodeVariant;
}

/** The official Node.js image for a release line: `nodeBase({ version: "22" })` is `node:22-slim`. */
export function nodeBase(options: NodeBaseOptions): Image {
  return from(`node:${options.version}-${options.variant ?? "slim"}`);
}

/**
 * Options of `nodeRuntime()`.
 *
 * @example
 * nodeBase({ version: "22" }).with(nodeRuntime({ port: 3000, healthPath: "/health" }))
 */
export interface NodeRuntimeOptions {
  /** The port the service listens on. */
  readonly port: number;
  /** Run as this user (the official images have `node`, uid 1000). Default `node`. */
  readonly user?: "node" | "root" | number;
  /** NODE_ENV (Dockerfile `ENV NODE_ENV=…`); default `production`. */
  readonly env?: "production" | "development";
  /** An HTTP path the health check requests on `port` with node's fetch. Omit for none. */
  readonly healthPath?: `/${string}`;
  /** Time between health checks (Dockerfile `HEALTHCHECK --interval`); default `30s`. */
  readonly healthInterval?: Duration;
}

/**
 * A fragment that makes an image run a Node.js service the recommended way: NODE_ENV set,
 * a non-root user, the port exposed, and (optionally) an HTTP health check that needs no curl.
 */
export function nodeRuntime(options: NodeRuntimeOptions): (image: Image) => Image {
  return (image) => {
    let img = image.env({ NODE_ENV: options.env ?? "production", PORT: String(options.port) }).user(options.user ?? "node").expose(options.port);
    if (options.healthPath) {
      const url = `http://127.0.0.1:${options.port}${options.healthPath}`;
      img = img.healthcheck(["node", "-e", `fetch(${JSON.stringify(url)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`], {
        interval: options.healthInterval ?? "30s",
        timeout: "5s",
        retries: 3,
      });
    }
    return img;
  };
}

/** Options of `nodeDeps()`: the node image (as `nodeBase()`), where the manifests come from, and what is installed. */
export interface NodeDepsOptions extends NodeBaseOptions {
  /** The source directory (default: the build context). */
  readonly src?: Directory;
  /** Install only production dependencies (default true). */
  readonly production?: boolean;
  /** The app directory the dependencies are installed in (Dockerfile `WORKDIR`); default `/app`. */
  readonly workdir?: string;
}

/**
 * The dependency layer of a Node.js app: copies only the package manifests and runs `npm ci`
 * with a persistent npm cache, so editing source files does not reinstall dependencies.
 */
export function nodeDeps(options: NodeDepsOptions): Image {
  const src = options.src ?? context();
  return nodeBase(options)
    .workdir(options.workdir ?? "/app")
    .copy(src.files("package.json", "package-lock.json"), "./")
    .run(options.production === false ? "npm ci" : "npm ci --omit=dev", { mounts: [cache("/root/.npm", { id: "npm" })] });
}
