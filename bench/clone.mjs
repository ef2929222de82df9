// Clones: a linked clone of a 1 GiB and of a 20 GiB disk (goal: the same time, < 100 ms) against the
// `qemu-img create -b` a person would type; a full clone of a disk holding 2 GiB of data against
// `qemu-img convert -O qcow2` of the same image by hand (goal: ≥ 0.9 of its speed). VMDesk is timed
// in a loaded core (the app's Clone button) and as the CLI command. Runs alternate; medians shown.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI, fmt, machineInfo, median, sandbox } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const FULL_RUNS = Number(process.env.BENCH_FULL_RUNS ?? 3);
const FULL_MIB = Number(process.env.BENCH_FULL_MIB ?? 2048);
const dist = path.join(import.meta.dirname, '..', 'dist/main/core');
const { Core } = await import(path.join(dist, 'core.js'));
const { cloneMachineTask } = await import(path.join(dist, 'clone/clone-ops.js'));

const out = [`clone (${machineInfo()})`, '| measure | VMDesk (core) | VMDesk (CLI) | by hand | goal |', '| --- | --- | --- | --- | --- |'];

function qemuImg(args) {
  const r = spawnSync('qemu-img', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`qemu-img ${args.join(' ')}: ${r.stderr}`);
}

function timeCli(sb, args) {
  const t = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { env: sb.env, encoding: 'utf8' });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`vmdesk ${args.join(' ')}: ${r.stderr}`);
  return ms;
}

async function timeCore(core, source, input) {
  const t = performance.now();
  const { result } = await cloneMachineTask(core, source, input);
  await result;
  return performance.now() - t;
}

/** A raw image of non-zero data, so that every cluster is really read and written. */
function patternImage(file, mib) {
  const chunk = Buffer.alloc(16 * 1024 * 1024);
  for (let i = 0; i < chunk.length; i += 8) chunk.writeUInt32LE(i ^ 0x5a5a5a5a, i);
  const fd = fs.openSync(file, 'w');
  for (let i = 0; i < mib / 16; i++) fs.writeSync(fd, chunk);
  fs.closeSync(fd);
}

const sb = sandbox();
try {
  const core = new Core({ env: sb.env });

  // 1. Linked clones: the base has a snapshot (its frozen image); only an overlay is made.
  for (const gib of [1, 20]) {
    const base = `base${gib}`;
    await (
      await core.create({ name: base, memoryMiB: 64, network: 'none', diskBytes: gib * 2 ** 30 })
    ).result;
    await core.snapshots.take(base, { name: 'frozen' }).result;
    const dir = (await core.get(base)).dir;
    const snapshots = JSON.parse(fs.readFileSync(path.join(dir, 'snapshots.json'), 'utf8'));
    const frozen = path.resolve(dir, snapshots.snapshots[0].disks[0].file);
    const rows = { core: [], cli: [], hand: [] };
    for (let i = 0; i < RUNS; i++) {
      rows.core.push(await timeCore(core, base, { name: `l${gib}c${i}`, linked: true, snapshot: 'frozen' }));
      rows.cli.push(timeCli(sb, ['clone', base, `l${gib}x${i}`, '--linked', '--snapshot', 'frozen']));
      const overlay = path.join(sb.home, `hand-${gib}-${i}.qcow2`);
      const t = performance.now();
      qemuImg(['create', '-q', '-f', 'qcow2', '-b', frozen, '-F', 'qcow2', overlay]);
      rows.hand.push(performance.now() - t);
    }
    out.push(
      `| linked clone, ${gib} GiB disk (median of ${RUNS}) | ${fmt(median(rows.core))} | ${fmt(median(rows.cli))} | qemu-img create -b: ${fmt(median(rows.hand))} | same at 1 and 20 GiB, < 100 ms |`,
    );
  }

  // 2. Full clone of a stopped machine whose disk holds FULL_MIB of data (hand and VMDesk alternate).
  const raw = path.join(sb.home, 'data.raw');
  patternImage(raw, FULL_MIB);
  await (
    await core.create({ name: 'data', memoryMiB: 64, network: 'none', importDisk: raw })
  ).result;
  fs.rmSync(raw);
  const src = path.join((await core.get('data')).dir, 'disks', 'disk0.qcow2');
  const full = { core: [], cli: [], hand: [] };
  const drop = (name) => core.delete(name);
  // Dirty pages of the previous copy are written out first (untimed), so no run pays for another's.
  const settle = () => spawnSync('sync');
  for (let i = 0; i < FULL_RUNS; i++) {
    settle();
    full.core.push(await timeCore(core, 'data', { name: `f${i}` }));
    await drop(`f${i}`);
    settle();
    full.cli.push(timeCli(sb, ['clone', 'data', `g${i}`]));
    await drop(`g${i}`);
    settle();
    const dst = path.join(sb.home, `hand-${i}.qcow2`);
    const t = performance.now();
    qemuImg(['convert', '-f', 'qcow2', '-O', 'qcow2', src, dst]);
    full.hand.push(performance.now() - t);
    fs.rmSync(dst);
  }
  const ratio = median(full.hand) / median(full.core);
  out.push(
    `| full clone, ${FULL_MIB / 1024} GiB of data (median of ${FULL_RUNS}) | ${fmt(median(full.core))} (${ratio.toFixed(2)}× the speed by hand; fixed cost ${fmt(median(full.core) - median(full.hand))}) | ${fmt(median(full.cli))} | qemu-img convert -O qcow2: ${fmt(median(full.hand))} | ≥ 0.9× |`,
  );
  const method = reflinkWorks((await core.get('data')).dir)
    ? 'reflink (this filesystem has them)'
    : 'qemu-img convert (no reflinks on this filesystem)';
  out.push(`| full clone of a lone qcow2: method used | ${method} | | | reflink where possible |`);
} finally {
  sb.cleanup();
}
console.log(out.join('\n'));

function reflinkWorks(dir) {
  const a = path.join(dir, '.reflink-probe');
  const b = `${a}.copy`;
  fs.writeFileSync(a, 'x');
  try {
    fs.copyFileSync(a, b, fs.constants.COPYFILE_FICLONE_FORCE);
    return true;
  } catch {
    return false;
  } finally {
    fs.rmSync(a, { force: true });
    fs.rmSync(b, { force: true });
  }
}
