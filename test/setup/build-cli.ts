import { execFileSync } from "node:child_process";
import { join } from "node:path";

/** Suites run the real `strata` binary: bundle it once before any test starts. */
export default function setup(): void {
  execFileSync(process.execPath, [join(import.meta.dirname, "../../packages/cli/scripts/build-cli.mjs")], { stdio: "inherit" });
}
