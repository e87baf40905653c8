import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { loadImageModule } from "../../packages/cli/src/load/load-module.ts";
import { scratchProject } from "../helpers/cli.ts";

/**
 * @strata/core keeps no process-global state: global args live in the copy of core bundled with
 * each module, so loading modules in one process (tests, `strata import`'s check, a watch loop)
 * gives each module the digest it has in a fresh process.
 */
const digestOf = async (file: string, cacheDir: string, target = "default") => (await loadImageModule(file, { cacheDir })).targets.get(target)!.toGraph().digest;

describe("module evaluation scope", () => {
  test("a module loaded twice in one process gives one digest (global arg read by a default-export function)", async () => {
    const dir = scratchProject({
      "app.image.ts": 'import { arg, from } from "@strata/core";\nconst V = arg("V", "1.36");\nexport default () => from(`busybox:${V}`);\n',
      "other.image.ts": 'import { arg, from } from "@strata/core";\nconst V = arg("V", "9.99");\nconst W = arg("W", "x");\nexport default from(`busybox:${V}-${W}`);\n',
    });
    const cacheDir = mkdtempSync(join(tmpdir(), "strata-scope-"));
    const first = await digestOf(join(dir, "app.image.ts"), cacheDir);
    // Another module declaring the same and other global args, evaluated in between.
    const other = await digestOf(join(dir, "other.image.ts"), cacheDir);
    const second = await digestOf(join(dir, "app.image.ts"), cacheDir);
    expect(second).toBe(first);
    expect(other).not.toBe(first);
    // And the digest is the one a fresh process computes (`strata graph`'s cache is bypassed by a new cacheDir).
    const fresh = await digestOf(join(dir, "app.image.ts"), mkdtempSync(join(tmpdir(), "strata-scope-")));
    expect(fresh).toBe(first);
  });

  test("a global arg declared by one module never reaches another module's from()", async () => {
    const dir = scratchProject({
      "a.image.ts": 'import { arg, from } from "@strata/core";\narg("BASE", "busybox:1");\nexport default from("${BASE}");\n',
      "b.image.ts": 'import { from } from "@strata/core";\nexport default from("${BASE}");\n',
    });
    const alone = await digestOf(join(dir, "b.image.ts"), mkdtempSync(join(tmpdir(), "strata-scope-")));
    await digestOf(join(dir, "a.image.ts"), mkdtempSync(join(tmpdir(), "strata-scope-")));
    // A new cache directory: b is bundled and evaluated again, after a declared BASE.
    const after = await digestOf(join(dir, "b.image.ts"), mkdtempSync(join(tmpdir(), "strata-scope-")));
    expect(after).toBe(alone);
  });
});
