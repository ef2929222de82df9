#!/usr/bin/env node
// The `vmdesk` command. Runs the bundled CLI through a V8 code cache kept beside it, so a command
// like `vmdesk list` does not pay for compiling the whole CLI at every start.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const file = fileURLToPath(new URL('../dist/bundle/cli.cjs', import.meta.url));
if (!existsSync(file)) {
  process.stderr.write('vmdesk is not built yet: run `npm run build` in the VMDesk folder\n');
  process.exit(1);
}
const cacheFile = `${file}.v8cache`;
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(file), module, file, path.dirname(file));
if (cachedData === undefined || script.cachedDataRejected) {
  process.once('exit', () => {
    try {
      writeFileSync(cacheFile, script.createCachedData());
    } catch {
      // A read-only install runs without the cache.
    }
  });
}
