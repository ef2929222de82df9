#!/usr/bin/env node
// Build: tsc type-checks and emits dist/main (modules for tests, benchmarks and the app), then
// esbuild bundles the programs that must start fast — the CLI, the per-VM agent, the internal
// network switch and the host memory policy — into single CommonJS files that bin/ loads with a V8
// code cache.
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { STAMP, inputsHash } from './build-inputs.mjs';

const root = path.resolve(import.meta.dirname, '..');
// What this build reads, hashed before it reads any of it (an edit made meanwhile makes the next check
// rebuild), recorded once the build is whole: scripts/install-deps.sh skips a build of the same inputs.
const inputs = inputsHash(root);
fs.rmSync(path.join(root, STAMP), { force: true });
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
// The switch of an internal network: a detached process like the agent (bin/vmdesk-switch.cjs).
await build({
  ...common,
  entryPoints: [path.join(root, 'src-main/core/network/switch/switch-main.ts')],
  outfile: path.join(root, 'dist/bundle/switch.cjs'),
});
// The host memory policy (automatic ballooning): a detached process like the switch (bin/vmdesk-policy.cjs).
await build({
  ...common,
  entryPoints: [path.join(root, 'src-main/core/resources/policy/policy-main.ts')],
  outfile: path.join(root, 'dist/bundle/policy.cjs'),
});
// The snapshot scheduler: a detached process like the policy (bin/vmdesk-scheduler.cjs).
await build({
  ...common,
  entryPoints: [path.join(root, 'src-main/core/schedule/scheduler/scheduler-main.ts')],
  outfile: path.join(root, 'dist/bundle/scheduler.cjs'),
});

// The Electron main process and its preload: CommonJS bundles (a sandboxed preload must be one
// CommonJS file); `electron` itself stays external, it is provided by the Electron runtime.
if (fs.existsSync(path.join(root, 'src-main/electron/main.ts'))) {
  for (const [entry, out] of [
    ['src-main/electron/main.ts', 'dist/electron/main.cjs'],
    ['src-main/electron/preload.ts', 'dist/electron/preload.cjs'],
  ]) {
    // A sandboxed preload has no __filename: it gets neither the import.meta.url banner nor its define.
    const preload = entry.endsWith('preload.ts');
    await build({
      ...common,
      minify: false,
      external: ['electron'],
      ...(preload ? { banner: {}, define: {} } : {}),
      entryPoints: [path.join(root, entry)],
      outfile: path.join(root, out),
    });
  }
}

// The renderer (Vue), built by Vite into dist/renderer: served by `vmdesk serve`, loaded by Electron.
if (fs.existsSync(path.join(root, 'vite.config.ts'))) {
  // Always the production build: Vite takes NODE_ENV from the environment, and one inherited from a
  // test runner (vitest sets NODE_ENV=test) would keep Vue's and vue-i18n's development code in.
  // Then the same renderer built for Node (dist/renderer-ssr), with which `vmdesk serve` draws the
  // main window into the page it sends (src-main/server/window-render.ts).
  for (const ssr of [[], ['--ssr', 'entry-server.ts']]) {
    const vite = spawnSync(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', ...ssr, '--logLevel', 'warn'], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, NODE_ENV: 'production' },
    });
    if (vite.status !== 0) process.exit(vite.status ?? 1);
  }
  // The server build is an ES module, and the CLI's bundle runs in a vm.Script, whose import() Node
  // refuses: the bundle requires this file (loaded by Node's own loader, where import() works) to
  // import it (src-main/server/window-render.ts).
  fs.writeFileSync(
    path.join(root, 'dist/renderer-ssr/load.cjs'),
    "'use strict';\n// Written by scripts/build.mjs: see there.\nmodule.exports = () => import('./entry-server.mjs');\n",
  );
  // The main window's first load stays small: Element Plus on demand, dialogs in chunks of their own.
  const { bundleProblems } = await import(path.join(root, 'dist/main/server/renderer-bundle.js'));
  const problems = bundleProblems(path.join(root, 'dist/renderer'));
  if (problems.length > 0) {
    console.error(`The renderer's first load: ${problems.join('; ')} (src-main/server/renderer-bundle.ts)`);
    process.exit(1);
  }
}

fs.writeFileSync(path.join(root, STAMP), `${inputs}\n`);
