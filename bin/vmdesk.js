#!/usr/bin/env node
// The `vmdesk` command: the bundled CLI, run through a V8 code cache (see run-bundle.cjs).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
require('./run-bundle.cjs').runBundle(fileURLToPath(new URL('../dist/bundle/cli.cjs', import.meta.url)));
