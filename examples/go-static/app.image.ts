// A Go service built in one stage and shipped alone on scratch: the final image holds one
// static binary. No stage names as strings: the final image copies from the build Image value.
import { arg, scratch } from "@strata/core";
import { goBuild } from "@strata/images";

const VERSION = arg("VERSION", "dev");

// The build step reads $VERSION, so the stage declares it (args: [VERSION]), as a Dockerfile's
// `ARG VERSION` inside the stage would.
export const build = goBuild({ version: "1.23", pkg: "./cmd/app", ldflags: `-s -w -X main.version=$VERSION`, args: [VERSION] });

export default scratch()
  .copy(build.path("/out/app"), "/app")
  .user({ user: 65532, group: 65532 })
  .expose(8080)
  .entrypoint(["/app"]);
