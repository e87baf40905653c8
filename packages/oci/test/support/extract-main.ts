// Run as an unprivileged user by extract-nonroot.test.ts: extracts argv[2] into argv[3] and prints the outcome.
import { createReadStream } from "node:fs";
import { extractLayer } from "../../src/index.ts";

const [tar, root, mode] = process.argv.slice(2) as [string, string, "apply" | "overlay"];
try {
  const r = await extractLayer(createReadStream(tar), root, { mode });
  process.stdout.write(JSON.stringify({ ok: true, entries: r.entries, warnings: r.warnings.map((w) => w.code) }));
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, code: (e as { code?: string }).code }));
}
