import type { ProjectKind } from "./detect.ts";

/** The base image each kind of project starts from (what `--image REF=…` replaces offline). */
export function baseImageOf(kind: ProjectKind): string {
  switch (kind.kind) {
    case "node":
      return "node:22-slim";
    case "go":
      return "golang:1.24";
    case "python":
      return "python:3.12-slim";
    case "minimal":
      return "busybox:1.37";
  }
}

// Import lines in the templates below are written `from \"…\"`: they are text of the user's
// module, not imports of the CLI (test/boundaries reads `from "…"` as an import).
const HEADER = "// The container image of this project, as typed code (https://www.npmjs.com/package/@strata/core).\n// `npm run image:check` type-checks it; `npm run image:build` builds it (`-- --load` loads it into Docker).\n";

/** The image module `strata init` writes for the project it found. */
export function imageModule(kind: ProjectKind): string {
  switch (kind.kind) {
    case "node": {
      const cmd = JSON.stringify(kind.start);
      if (kind.manager === "npm") {
        return `${HEADER}import { context, from } from "@strata/core";
import { nodeDeps, nodeRuntime } from "@strata/images";

// The project's files, minus what .dockerignore lists (node_modules, .git, …).
const src = context(".");

// package.json + package-lock.json, then \`npm ci --omit=dev\` with a persistent npm cache:
// editing the source does not reinstall dependencies.
export const deps = nodeDeps({ version: "22", src });

export default from(deps)
  .copy(src, ".", { chown: "node:node" })
  .with(nodeRuntime({ port: 3000 }))
  .cmd(${cmd});
`;
      }
      const lock = kind.manager === "pnpm" ? "pnpm-lock.yaml" : "yarn.lock";
      const install = kind.manager === "pnpm" ? "pnpm install --frozen-lockfile --prod" : "yarn install --frozen-lockfile --production";
      const store = kind.manager === "pnpm" ? "/root/.local/share/pnpm/store" : "/usr/local/share/.cache/yarn";
      return `${HEADER}import { cache, context } from "@strata/core";
import { nodeBase, nodeRuntime } from "@strata/images";

// The project's files, minus what .dockerignore lists (node_modules, .git, …).
const src = context(".");

// The manifest and ${lock} first, installed with a persistent ${kind.manager} cache: editing the
// source does not reinstall dependencies.
export const deps = nodeBase({ version: "22" })
  .workdir("/app")
  .copy(src.files("package.json", "${lock}"), "./")
  .run("corepack enable && ${install}", { mounts: [cache("${store}", { id: "${kind.manager}" })] });

export default deps
  .copy(src, ".", { chown: "node:node" })
  .with(nodeRuntime({ port: 3000 }))
  .cmd(${cmd});
`;
    }
    case "go":
      return `${HEADER}import { context } from "@strata/core";
import { goBuild, staticImage } from "@strata/images";

// A static binary (CGO off, module and build caches), shipped alone on scratch as a non-root user.
export const build = goBuild({ version: "1.24", src: context("."), pkg: ${JSON.stringify(kind.pkg)} });

export default staticImage(build.path("/out/app"));
`;
    case "python": {
      const install =
        kind.via === "requirements"
          ? `  .copy(src.files("requirements.txt"), "./")\n  .run("pip install --no-cache-dir -r requirements.txt", { mounts: [cache("/root/.cache/pip", { id: "pip" })] })\n  .copy(src, ".")`
          : `  .copy(src, ".")\n  .run("pip install --no-cache-dir .", { mounts: [cache("/root/.cache/pip", { id: "pip" })] })`;
      return `${HEADER}import { cache, context, from } from "@strata/core";

// The project's files, minus what .dockerignore lists.
const src = context(".");

export default from("python:3.12-slim")
  .workdir("/app")
${install}
  .env({ PYTHONUNBUFFERED: "1" })
  .user({ user: 65532, group: 65532 })
  .cmd(["python", ${JSON.stringify(kind.main)}]);
`;
    }
    case "minimal":
      return `${HEADER}import { context, from } from "@strata/core";

// The project's files, minus what .dockerignore lists, in /app of a small base image.
export default from("busybox:1.37")
  .workdir("/app")
  .copy(context("."), ".")
  .cmd(["sh", "-c", "echo hello from strata; ls /app"]);
`;
  }
}

/** What the build context leaves out (the image module itself is not part of the app). */
export function dockerignore(kind: ProjectKind): string {
  // node_modules in every kind: the project installs @strata/cli and @strata/core there.
  const common = ["node_modules", ".git", "*.image.ts", ".dockerignore", "Dockerfile*", "README.md"];
  const extra = kind.kind === "node" ? ["npm-debug.log*", "coverage"] : kind.kind === "python" ? ["__pycache__", "*.pyc", ".venv", "venv"] : kind.kind === "go" ? ["bin"] : [];
  return `${[...extra, ...common].join("\n")}\n`;
}

/** The tsconfig.json for image modules: bundler resolution (esbuild loads them), strict, Node's types from strata. */
export function tsconfig(): string {
  return `${JSON.stringify(
    {
      compilerOptions: {
        target: "ES2022",
        module: "ESNext",
        moduleResolution: "Bundler",
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        allowImportingTsExtensions: true,
        types: ["node"],
      },
      include: ["*.image.ts"],
    },
    null,
    2,
  )}\n`;
}

/** Marks the README block, so a second `strata init` does not add it again. */
export const README_MARKER = "<!-- strata:image -->";

/** The block `strata init` adds to README.md. */
export function readmeBlock(kind: ProjectKind): string {
  return `${README_MARKER}
## Container image

The image is defined in \`app.image.ts\` ([Strata](https://www.npmjs.com/package/@strata/cli)):

\`\`\`sh
npm run image:check                      # type-check app.image.ts
npm run image:build -- -t app:dev --load # build it and load it into Docker
docker run --rm app:dev
\`\`\`

Offline, point the base image at a local copy: \`npx strata build app.image.ts --image ${baseImageOf(kind)}=oci-layout:./base\`.
`;
}
