#!/usr/bin/env node
// Build: tsc type-checks and emits dist/main (modules for tests, benchmarks and the app), then
// esbuild bundles the two programs that must start fast — the CLI and the per-VM agent — into
// single CommonJS files that bin/vmdesk.js loads with a V8 code cache.
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.main.json')], {
  stdio: 'inherit',
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

fs.rmSync(path.join(root, 'dist/bundle'), { recursive: true, force: true });
const common = {
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  // The sources are ES modules: give them import.meta.url in the CommonJS bundle.
  define: { 'import.meta.url': '__vmdeskImportMetaUrl' },
  banner: { js: "const __vmdeskImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
};
await build({ ...common, entryPoints: [path.join(root, 'src-main/cli/main.ts')], outfile: path.join(root, 'dist/bundle/cli.cjs') });
await build({
  ...common,
  entryPoints: [path.join(root, 'src-main/core/agent/agent-main.ts')],
  outfile: path.join(root, 'dist/bundle/agent.cjs'),
});
