#!/usr/bin/env node
// Runs every check and suite, then prints one closing line "N passed, N failed, N skipped" counting
// them all: static checks count one each, every vitest test counts one, and a test file that failed
// without a failed test (a throwing beforeAll, an import error) counts one failure of its own. Skipped
// tests are listed with their reason (the `skipReason` a test sets in its meta, see
// src-main/integration/harness.ts skipBecause) before that line.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
const skips = [];
/** Each test file's wall time, for the closing table of the longest (where the suite's time goes). */
const fileTimes = [];

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
    if (file.endTime > file.startTime) fileTimes.push({ rel, seconds: (file.endTime - file.startTime) / 1000 });
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

/** The host's CPU time so far (Linux /proc/stat, in ticks): all of it and the idle part (idle and iowait). */
function cpuTicks() {
  try {
    const [, ...fields] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    const n = fields.map(Number);
    return { total: n.reduce((a, b) => a + b, 0), idle: n[3] + n[4] };
  } catch {
    return null;
  }
}

/** How busy the host's CPUs were since `from` (a cpuTicks()), as " CPU 87 % busy", or nothing. */
function busySince(from) {
  const now = cpuTicks();
  if (!from || !now || now.total === from.total) return '';
  return `, CPU ${Math.round(100 * (1 - (now.idle - from.idle) / (now.total - from.total)))} % busy`;
}

/**
 * Runs a command; its output goes straight through, or when `buffered` (it runs beside another) is
 * kept and printed whole once it ends, so that two outputs never interleave.
 */
function run(name, cmd, args, { env = process.env, buffered = false } = {}) {
  const started = Date.now();
  const ticks = cpuTicks();
  const header = `\n── ${name}: ${cmd} ${args.join(' ')}\n`;
  if (!buffered) process.stdout.write(header);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: buffered ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    const output = [];
    child.stdout?.on('data', (d) => output.push(d));
    child.stderr?.on('data', (d) => output.push(d));
    child.on('close', (code) => {
      const ok = code === 0;
      if (buffered) process.stdout.write(header + Buffer.concat(output).toString());
      process.stdout.write(`── ${name}: ${ok ? 'ok' : 'FAILED'} (${((Date.now() - started) / 1000).toFixed(1)} s${busySince(ticks)})\n`);
      resolve(ok);
    });
  });
}

async function check(name, cmd, args, options) {
  if (await run(name, cmd, args, options)) {
    passed++;
    return true;
  }
  failed++;
  failures.push(name);
  return false;
}

/** One vitest run of the given projects, its report counted. */
async function vitest(projects, env, options = {}) {
  const name = `vitest ${projects.join(' + ')}`;
  const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-test-')), 'report.json');
  const args = ['vitest', 'run', ...projects.flatMap((p) => ['--project', p]), '--reporter=default', '--reporter=json'];
  const ok = await run(name, 'npx', [...args, `--outputFile.json=${report}`], { env, ...options });
  if (!fs.existsSync(report)) {
    failed++;
    failures.push(`${name} (no report)`);
    return;
  }
  const added = countReport(JSON.parse(fs.readFileSync(report, 'utf8')));
  // vitest failed for a reason its report does not show (an unhandled error, a crashed worker).
  if (!ok && added === 0) {
    failed++;
    failures.push(`${name} (exited with failure; see its output above)`);
  }
}

/**
 * tsc, vue-tsc, ESLint and Prettier each use one core, two at a time. They run at the lowest CPU
 * priority (nice 19) beside the unit and the parallel integration tests, whose guests mostly wait:
 * they take the CPU those leave idle, and yield it at once to a test that wants it. The longest
 * (ESLint, type-aware) starts first.
 */
async function checksTwoAtATime(checks) {
  const queue = [...checks];
  const lane = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [name, cmd, args] = next;
      await check(name, 'nice', ['-n', '19', cmd, ...args], { buffered: true });
    }
  };
  await Promise.all([lane(), lane()]);
}

// Built first (the unit tests read dist/ too): when dist/ was built from exactly these sources
// (scripts/install-deps.sh builds, and stamps what from), the build is not repeated. The suites'
// global setup then reuses dist/ instead of building it again each.
let built = spawnSync('node', ['scripts/build-inputs.mjs'], { cwd: root, stdio: 'inherit' }).status === 0;
if (built) {
  passed++;
  process.stdout.write('\n── build: dist/ is the build of these sources\n');
} else built = await check('build', 'npm', ['run', 'build', '--silent']);
const env = built ? { ...process.env, VMDESK_TEST_SKIP_BUILD: '1' } : process.env;
const checks = checksTwoAtATime([
  ['lint', 'npx', ['eslint', '.']],
  ['typecheck renderer', 'npx', ['vue-tsc', '-p', 'src-renderer/tsconfig.json', '--noEmit']],
  ['format', 'npx', ['prettier', '--check', '.']],
  ['typecheck e2e', 'npx', ['tsc', '-p', 'e2e/tsconfig.json', '--noEmit']],
  ['typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
]);
await vitest(['unit'], env);
// Integration files run two at a time; then the serial ones (*.serial.test.ts): those that need the
// machine alone (with the e2e file that times the CPU), then two lanes side by side (two vitest runs:
// one vitest runs the files of projects without file parallelism one at a time, whatever their
// groupOrder); then the other e2e files, two at a time (vitest.config.ts says which file goes where).
const hasE2e = fs.existsSync(path.join(root, 'e2e'));
await vitest(['integration'], env);
// What follows times the CPU, or runs alone: the checks have ended before.
await checks;
await vitest(hasE2e ? ['integration-serial', 'e2e-serial'] : ['integration-serial'], env);
await Promise.all([vitest(['integration-serial-lane-1'], env), vitest(['integration-serial-lane-2'], env, { buffered: true })]);
if (hasE2e) await vitest(['e2e'], env);

const longest = fileTimes.sort((a, b) => b.seconds - a.seconds).slice(0, 25);
process.stdout.write(
  '\nLongest test files (wall time, seconds):\n' + longest.map((f) => `  ${f.seconds.toFixed(1).padStart(6)}  ${f.rel}`).join('\n') + '\n',
);
if (skips.length) {
  process.stdout.write('\nSkipped:\n' + skips.map((s) => `  - ${s}`).join('\n') + '\n');
}
if (failures.length) {
  process.stdout.write('\nFailures:\n' + failures.map((f) => `  ✗ ${f}`).join('\n') + '\n');
}
process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(failed === 0 ? 0 : 1);
