import type { CliContext } from "./context.ts";
import { runCli } from "./main.ts";

/** The `strata` executable: the real process's streams and environment. */
function processContext(): CliContext {
  const isTty = Boolean(process.stderr.isTTY);
  return {
    cwd: process.cwd(),
    env: process.env,
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    stdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
    color: isTty && !process.env.NO_COLOR,
    isTty,
    streams: {
      stdin: process.stdin,
      stdout: (b) => void process.stdout.write(b),
      stderr: (b) => void process.stderr.write(b),
    },
  };
}

// exitCode rather than exit(): piped stdout drains before the process ends.
process.exitCode = await runCli(process.argv.slice(2), processContext());
