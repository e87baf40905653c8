// 5,000 fuzzed inputs (random bytes, mutated corpus files and fixtures) through the public
// API: nothing may throw. The full 100,000-input run is `node bench/fuzz-parser.mjs`.
import { expect, test } from "vitest";
import * as df from "../src/index.ts";
// @ts-expect-error: a plain .mjs script without type declarations
import { fuzz } from "../../../bench/fuzz-parser.mjs";

test("5,000 fuzzed inputs: no exception escapes the public API", () => {
  const r = fuzz(df, { count: 5000, seed: 7 }) as { failures: unknown[] };
  expect(r.failures).toEqual([]);
}, 120_000);
