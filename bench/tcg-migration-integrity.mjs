// Whether a guest survives a live migration under TCG, with and without VMDesk's RAM pad
// (qemu-args.ts, TCG_RAM_PAD_KIB): QEMU before 9.0 loses guest writes during a TCG migration when
// the guest's RAM is a whole multiple of 256 KiB (the dirty sync's fast path does not re-arm the
// vCPUs' write tracking; upstream fix 03bfc2188f), and the guest comes up with stale kernel memory.
//
// By hand, both ways side by side: the argv of a VMDesk-started 128 MiB demo guest (padded: 131080K)
// and the same argv with `size=128M`; two QEMUs per migration on this host, a loop in the guest
// writing 16 MiB of random bytes to tmpfs again and again, `migrate` over a unix socket at 8 MiB/s
// (so it takes several rounds), the loop stopped after 12–16 s, then the destination continued and
// asked `echo $((6*7))`. A guest that does not answer within 15 s, or prints a kernel oops, is dead.
// One padded and one unpadded migration run at the same time (the same load on both).
// BENCH_TCG_RUNS (6): migrations each way.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI, machineInfo, sandbox } from './lib.mjs';
import { Console, Qmp, connectUnix, openSockets } from './qemu-lib.mjs';

const RUNS = Number(process.env.BENCH_TCG_RUNS ?? 6);
const PROMPT = 'vmdesk-demo# ';
const DEAD = /Kernel panic|BUG: |Oops: |general protection fault/;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const sb = sandbox();
const children = new Set();
function takeDown() {
  for (const c of children) c.kill('SIGKILL');
  for (const s of openSockets) s.destroy();
  sb.cleanup();
}
process.on('SIGINT', () => {
  takeDown();
  process.exit(130);
});

function vmdesk(args) {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: sb.env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vmdesk ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** VMDesk's argv for a 128 MiB demo guest (its QEMU's /proc/PID/cmdline), with its folders named. */
function vmdeskArgv() {
  vmdesk(['create', 'tcg', '--demo', '--memory', '128']);
  vmdesk(['start', 'tcg']);
  const { uuid, dir } = JSON.parse(vmdesk(['show', 'tcg', '--json']));
  const runtimeDir = path.join(sb.runtime, uuid);
  const pid = Number(fs.readFileSync(path.join(runtimeDir, 'qemu.pid'), 'utf8'));
  const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  vmdesk(['stop', 'tcg', '--force']);
  return { argv: argv.slice(1), binary: argv[0], dir, runtimeDir };
}

/** The argv for a QEMU of its own under `to`: runtime files in `to`, a fresh overlay disk, padded or not. */
function argvUnder(template, to, padded, incoming) {
  const disk = path.join(to, 'disk.qcow2');
  spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']);
  const args = template.argv.map((a, i) => {
    if (template.argv[i - 1] === '-blockdev' && a.startsWith('{"node-name":"disk0"'))
      return JSON.stringify({ 'node-name': 'disk0', driver: 'qcow2', file: { driver: 'file', filename: disk } });
    if (template.argv[i - 1] === '-m' && !padded) return 'size=128M';
    return a
      .split(template.runtimeDir)
      .join(to)
      .replace(/,logfile=[^,]+,logappend=on/, `,logfile=${to}/serial.log`);
  });
  return incoming ? [...args, '-incoming', 'defer'] : args;
}

async function startQemu(template, to, padded, incoming) {
  fs.mkdirSync(to, { recursive: true });
  const child = spawn(template.binary, argvUnder(template, to, padded, incoming), { stdio: 'ignore' });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const qmp = await Qmp.connect(path.join(to, 'qmp.sock'));
  const console_ = new Console(await connectUnix(path.join(to, 'serial.sock')));
  return { child, qmp, console: console_, dir: to };
}

async function until(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(100);
  }
}

/** One live migration; true when the guest answers there and printed no oops. */
async function migrateOnce(template, root, padded) {
  const a = await startQemu(template, path.join(root, 'a'), padded, false);
  const b = await startQemu(template, path.join(root, 'b'), padded, true);
  try {
    await a.qmp.cmd('cont');
    await a.console.when(PROMPT, 1, 120_000);
    a.console.type('while true; do dd if=/dev/urandom of=/dev/shm/x bs=1M count=16 2>/dev/null; done &');
    await sleep(2000);
    const socket = path.join(root, 'b', 'migration.sock');
    await b.qmp.cmd('migrate-incoming', { uri: `unix:${socket}` });
    await a.qmp.cmd('migrate-set-parameters', { 'max-bandwidth': 8 * 1024 * 1024, 'downtime-limit': 300 });
    await a.qmp.cmd('migrate', { uri: `unix:${socket}` });
    await sleep(12_000 + Math.random() * 4000);
    a.console.type('kill $!');
    await until(async () => (await a.qmp.cmd('query-migrate')).status === 'completed', 180_000, 'the migration');
    await until(async () => (await b.qmp.cmd('query-status')).status !== 'inmigrate', 30_000, 'the destination loaded');
    await b.qmp.cmd('cont').catch(() => undefined);
    const from = b.console.text.length;
    for (let i = 0; i < 10 && !b.console.text.slice(from).includes('42-ok'); i++) {
      b.console.type('echo $((6*7))-ok');
      await sleep(1500);
    }
    await sleep(2000);
    const there = b.console.text.slice(from);
    return there.includes('42-ok') && !DEAD.test(there);
  } finally {
    for (const q of [a, b]) {
      q.qmp.close();
      q.console.close();
      q.child.kill('SIGKILL');
    }
  }
}

try {
  const template = vmdeskArgv();
  const ram = template.argv[template.argv.indexOf('-m') + 1];
  const dead = { padded: 0, plain: 0 };
  for (let run = 1; run <= RUNS; run++) {
    const [padded, plain] = await Promise.all([
      migrateOnce(template, path.join(sb.home, `padded-${run}`), true),
      migrateOnce(template, path.join(sb.home, `plain-${run}`), false),
    ]);
    if (!padded) dead.padded++;
    if (!plain) dead.plain++;
    console.error(`run ${run}: padded ${padded ? 'alive' : 'DEAD'}, 128M ${plain ? 'alive' : 'DEAD'}`);
  }
  const qemu = spawnSync(template.binary, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
  console.log(`\nTCG live migration integrity (${machineInfo()}; ${qemu}; ${RUNS} migrations each way, two at a time)\n`);
  console.log('| guest RAM | migrations | guest dead after it |');
  console.log('| --- | --- | --- |');
  console.log(`| ${ram} (VMDesk, padded) | ${RUNS} | ${dead.padded} |`);
  console.log(`| size=128M (the bare setting) | ${RUNS} | ${dead.plain} |`);
} finally {
  takeDown();
}
