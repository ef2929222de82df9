#!/usr/bin/env node
// What the build reads, hashed by content. scripts/build.mjs records the hash of the inputs it built
// from in dist/.build-inputs; scripts/install-deps.sh asks this script whether dist/ is still that
// build (exit 0) or must be rebuilt (exit 1, saying why), so a second ./start.sh does not rebuild.
// `--print` prints the hash of the inputs as they are now.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = path.resolve(import.meta.dirname, '..');
export const STAMP = 'dist/.build-inputs';

/** Everything scripts/build.mjs reads (tsc, esbuild, vite); a folder counts with every file under it. */
const INPUTS = [
  'src-main',
  'src-renderer',
  'bin',
  'scripts/build.mjs',
  'scripts/build-inputs.mjs',
  'vite.config.ts',
  'tsconfig.base.json',
  'tsconfig.main.json',
  'package.json',
  'package-lock.json',
];

/** Tests are not built (tsconfig.main.json excludes them; the bundles and the renderer never import them). */
const notBuilt = (rel) => rel.endsWith('.test.ts') || /^src-main\/(.+\/)?integration$/.test(rel);

/** What a build makes: one missing means dist/ is not a whole build, whatever the stamp says. */
const OUTPUTS = [
  'dist/main/cli/program.js',
  'dist/bundle/cli.cjs',
  'dist/bundle/agent.cjs',
  'dist/bundle/switch.cjs',
  'dist/bundle/policy.cjs',
  'dist/bundle/scheduler.cjs',
  'dist/electron/main.cjs',
  'dist/renderer/index.html',
  'dist/renderer-ssr/entry-server.mjs',
  'dist/renderer-ssr/load.cjs',
];

function collect(root, rel, files) {
  if (notBuilt(rel)) return;
  let stat;
  try {
    stat = fs.statSync(path.join(root, rel));
  } catch {
    return; // an input that does not exist hashes as absent
  }
  if (stat.isDirectory()) for (const name of fs.readdirSync(path.join(root, rel))) collect(root, `${rel}/${name}`, files);
  else if (stat.isFile()) files.push(rel);
}

/** The content hash of the build's inputs: changes when a file is edited, added, removed or renamed. */
export function inputsHash(root = ROOT) {
  const files = [];
  for (const input of INPUTS) collect(root, input, files);
  const hash = createHash('sha256');
  for (const rel of files.sort()) {
    const content = fs.readFileSync(path.join(root, rel));
    hash.update(`${rel}\0${content.length}\0`).update(content);
  }
  return hash.digest('hex');
}

/** Why dist/ is not the build of the inputs as they are now, or null when it is. */
export function staleReason(root = ROOT) {
  const missing = OUTPUTS.find((file) => !fs.existsSync(path.join(root, file)));
  if (missing) return `${missing} is missing`;
  let recorded;
  try {
    recorded = fs.readFileSync(path.join(root, STAMP), 'utf8').trim();
  } catch {
    return `${STAMP} (the inputs of the last build) is missing`;
  }
  return recorded === inputsHash(root) ? null : 'sources changed since the last build';
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === '--print') {
    console.log(inputsHash());
  } else {
    const reason = staleReason();
    if (reason) console.log(`Building VMDesk: ${reason}`);
    process.exitCode = reason ? 1 : 0;
  }
}
