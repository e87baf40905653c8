export { runCli } from "./main.ts";
export type { CliContext } from "./context.ts";
export { loadImageModule } from "./load/load-module.ts";
export { loadGraphs, loadTarget, isDockerfileName } from "./load/load-target.ts";
export { typeCheck } from "./commands/check.ts";
