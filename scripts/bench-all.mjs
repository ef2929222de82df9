#!/usr/bin/env node
// Runs every benchmark under bench/ and prints their tables (copy them into bench/RESULTS.md).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const dir = path.resolve(import.meta.dirname, '..', 'bench');
const only = process.argv[2];
for (const file of fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.mjs') && f !== 'lib.mjs')
  .sort()) {
  if (only && !file.includes(only)) continue;
  console.log(`\n## ${file}  (${new Date().toISOString()})`);
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(dir, file)], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = 1;
}
