#!/usr/bin/env node
// The bundled CLI (built by scripts/build-cli.mjs on install); see packages/cli/src/main.ts.
import "../dist/strata.mjs";
