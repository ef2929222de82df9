#!/usr/bin/env node
// Runs every check and suite, then prints one closing line "N passed, N failed" counting them all:
// static checks count one each, every vitest test counts one.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
let passed = 0;
let failed = 0;
const failures = [];

function step(name, cmd, args) {
  const started = Date.now();
  process.stdout.write(`\n── ${name}: ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  const ok = r.status === 0;
  process.stdout.write(`── ${name}: ${ok ? 'ok' : 'FAILED'} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  return ok;
}

function check(name, cmd, args) {
  if (step(name, cmd, args)) passed++;
  else {
    failed++;
    failures.push(name);
  }
}

function vitest(project) {
  const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-test-')), 'report.json');
  const ok = step(`vitest ${project}`, 'npx', [
    'vitest',
    'run',
    '--project',
    project,
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
  ]);
  if (!fs.existsSync(report)) {
    failed++;
    failures.push(`vitest ${project} (no report)`);
    return;
  }
  const results = JSON.parse(fs.readFileSync(report, 'utf8'));
  passed += results.numPassedTests;
  failed += results.numFailedTests;
  for (const file of results.testResults) {
    for (const t of file.assertionResults) if (t.status === 'failed') failures.push(`${path.relative(root, file.name)} › ${t.fullName}`);
    // A file that fails to load counts as a failure even though it ran no test.
    if (file.status === 'failed' && file.assertionResults.length === 0) {
      failed++;
      failures.push(`${path.relative(root, file.name)} (failed to load: ${file.message})`);
    }
  }
  if (!ok && results.numFailedTests === 0 && !failures.length) {
    failed++;
    failures.push(`vitest ${project}`);
  }
}

check('typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
check('typecheck e2e', 'npx', ['tsc', '-p', 'e2e/tsconfig.json', '--noEmit']);
check('typecheck renderer', 'npx', ['vue-tsc', '-p', 'src-renderer/tsconfig.json', '--noEmit']);
check('lint', 'npx', ['eslint', '.']);
check('format', 'npx', ['prettier', '--check', '.']);
check('build', 'npm', ['run', 'build', '--silent']);
vitest('unit');
vitest('integration');
if (fs.existsSync(path.join(root, 'e2e'))) vitest('e2e');

if (failures.length) {
  process.stdout.write('\nFailures:\n' + failures.map((f) => `  ✗ ${f}`).join('\n') + '\n');
}
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);
