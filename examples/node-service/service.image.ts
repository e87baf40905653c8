// A Node.js HTTP service: dependencies in their own cached layer, then the source, run as the
// non-root `node` user with a health check. Shared pieces come from @strata/images, a typed
// package any repository can depend on.
import { context, from } from "@strata/core";
import { nodeDeps, nodeRuntime, ociLabels } from "@strata/images";

// The app lives in app/ with its own package.json and package-lock.json (what `npm ci` installs);
// this directory's package.json only gives the image module its @strata packages. app/.dockerignore
// keeps node_modules out of the context.
const src = context("app");

// package.json + package-lock.json, then `npm ci` with a persistent npm cache: editing the
// source does not reinstall dependencies.
export const deps = nodeDeps({ version: "22", src });

export default from(deps)
  .copy(src.path("src"), "./src", { chown: "node:node" })
  .with(nodeRuntime({ port: 3000, healthPath: "/healthz" }))
  .with(ociLabels({ title: "node-service", licenses: "Apache-2.0" }))
  .cmd(["node", "src/server.js"]);
