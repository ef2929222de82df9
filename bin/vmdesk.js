#!/usr/bin/env node
// The `vmdesk` command: runs the built CLI (npm install builds it; `npm run build` rebuilds it).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('../dist/main/cli/main.js', import.meta.url));
if (!existsSync(entry)) {
  process.stderr.write('vmdesk is not built yet: run `npm run build` in the VMDesk folder\n');
  process.exit(1);
}
await import(entry);
