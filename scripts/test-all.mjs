#!/usr/bin/env node
// Runs every check and suite, then prints one closing line "N passed, N failed, N skipped" counting
// them all: static checks count one each, every vitest test counts one, and a test file that failed
// without a failed test (a throwing beforeAll, an import error) counts one failure of its own. Skipped
// tests are listed with their reason (the `skipReason` a test sets in its meta, see
// src-main/integration/harness.ts skipBecause) before that line.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
const skips = [];

function step(name, cmd, args, env = process.env) {
  const started = Date.now();
  process.stdout.write(`\n── ${name}: ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  const ok = r.status === 0;
  process.stdout.write(`── ${name}: ${ok ? 'ok' : 'FAILED'} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  return ok;
}

function check(name, cmd, args) {
  if (step(name, cmd, args)) {
    passed++;
    return true;
  }
  failed++;
  failures.push(name);
  return false;
}

const oneLine = (text) => String(text).split('\n')[0].slice(0, 300);

/** Counts one project's report; returns how many failures it added. */
function countReport(results) {
  let projectFailures = 0;
  const fail = (what) => {
    failed++;
    projectFailures++;
    failures.push(what);
  };
  for (const file of results.testResults) {
    const rel = path.relative(root, file.name);
    const fileFailed = file.status === 'failed' && !file.assertionResults.some((t) => t.status === 'failed');
    // A file that failed without a failed test (its beforeAll threw, it did not load): its tests never ran.
    if (fileFailed) fail(`${rel} (the file failed: ${oneLine(file.message || 'no message')})`);
    for (const t of file.assertionResults) {
      if (t.status === 'passed') passed++;
      else if (t.status === 'failed') fail(`${rel} › ${t.fullName}`);
      else {
        skipped++;
        const reason = fileFailed ? 'not run: its file failed' : (t.meta?.skipReason ?? (t.status === 'todo' ? 'todo' : 'no reason given'));
        skips.push(`${rel} › ${t.fullName} — ${reason}`);
      }
    }
  }
  return projectFailures;
}

function vitest(project, env) {
  const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-test-')), 'report.json');
  const ok = step(
    `vitest ${project}`,
    'npx',
    ['vitest', 'run', '--project', project, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
    env,
  );
  if (!fs.existsSync(report)) {
    failed++;
    failures.push(`vitest ${project} (no report)`);
    return;
  }
  const added = countReport(JSON.parse(fs.readFileSync(report, 'utf8')));
  // vitest failed for a reason its report does not show (an unhandled error, a crashed worker).
  if (!ok && added === 0) {
    failed++;
    failures.push(`vitest ${project} (exited with failure; see its output above)`);
  }
}

check('typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
check('typecheck e2e', 'npx', ['tsc', '-p', 'e2e/tsconfig.json', '--noEmit']);
check('typecheck renderer', 'npx', ['vue-tsc', '-p', 'src-renderer/tsconfig.json', '--noEmit']);
check('lint', 'npx', ['eslint', '.']);
check('format', 'npx', ['prettier', '--check', '.']);
// Built once here: the suites' global setup then reuses dist/ instead of building it again each.
const built = check('build', 'npm', ['run', 'build', '--silent']);
const env = built ? { ...process.env, VMDESK_TEST_SKIP_BUILD: '1' } : process.env;
vitest('unit', env);
// Integration files run two at a time; the serial ones (*.serial.test.ts) then have the machine alone.
vitest('integration', env);
vitest('integration-serial', env);
if (fs.existsSync(path.join(root, 'e2e'))) vitest('e2e', env);

if (skips.length) {
  process.stdout.write('\nSkipped:\n' + skips.map((s) => `  - ${s}`).join('\n') + '\n');
}
if (failures.length) {
  process.stdout.write('\nFailures:\n' + failures.map((f) => `  ✗ ${f}`).join('\n') + '\n');
}
process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(failed === 0 ? 0 : 1);
