'use strict';
// Runs one of VMDesk's esbuild bundles through a V8 code cache kept beside it, so the programs that
// start often (the `vmdesk` CLI, the per-VM agent) do not compile half a megabyte of code each time.
const fs = require('node:fs');
const { Module, createRequire } = require('node:module');
const path = require('node:path');
const vm = require('node:vm');

function runBundle(file) {
  if (!fs.existsSync(file)) {
    process.stderr.write(`VMDesk is not built yet (${path.basename(file)} is missing): run \`npm run build\` in the VMDesk folder\n`);
    process.exit(1);
  }
  const cacheFile = `${file}.v8cache`;
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, path.dirname(file));
  if (cachedData === undefined || script.cachedDataRejected) {
    // After the program has run a while, so the cache holds the functions it really used.
    const save = () => {
      try {
        fs.writeFileSync(`${cacheFile}.${process.pid}`, script.createCachedData());
        fs.renameSync(`${cacheFile}.${process.pid}`, cacheFile);
      } catch {
        // A read-only install runs without the cache.
      }
    };
    if (path.basename(file).startsWith('agent')) setTimeout(save, 2000).unref();
    else process.once('exit', save);
  }
}

module.exports = { runBundle };
