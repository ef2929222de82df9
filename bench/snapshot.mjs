// Live snapshots of a running demo guest with 256 MiB and 1 GiB of RAM (64 MiB of it filled with random
// data): take (pause, overlays, RAM saved, resume) and restore (power off, new overlays, QEMU started
// again loading the RAM state, continue) through the core, against the same QMP commands sent by hand
// to a QEMU started with the very same command line (qemu-img create -b, stop, transaction of
// blockdev-snapshot-sync, migrate to `exec:cat > FILE`, query-migrate, cont; for restore: quit,
// qemu-img create -b, qemu-system … -incoming defer, migrate-incoming `exec:cat FILE`, cont).
// Goal: VMDesk ≤ 1.2 × by hand. Runs alternate; medians shown.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fmt, machineInfo, median, sandbox } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SIZES = (process.env.BENCH_SIZES ?? '256,1024').split(',').map(Number);
const dist = path.join(import.meta.dirname, '..', 'dist/main/core');
const { Core } = await import(path.join(dist, 'core.js'));
const { QmpClient } = await import(path.join(dist, 'qemu/qmp-client.js'));

const out = [
  `snapshot (${machineInfo()}; RUNS=${RUNS})`,
  '| measure | VMDesk (core) | by hand (QMP) | ratio | goal |',
  '| --- | --- | --- | --- | --- |',
];

const shq = (s) => `'${s.replaceAll("'", `'\\''`)}'`;

function qemuImg(args) {
  const r = spawnSync('qemu-img', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`qemu-img ${args.join(' ')}: ${r.stderr}`);
}

async function waitMigration(qmp) {
  for (;;) {
    const info = await qmp.execute('query-migrate');
    if (info.status === 'completed') return;
    if (info.status === 'failed' || info.status === 'cancelled') throw new Error(`migration ${info.status}: ${info['error-desc']}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** QEMU started by hand with the command line VMDesk used, the disk on `disk`, optionally loading `vmstate`. */
async function launchByHand(binary, baseArgs, rawDir, disk, vmstate) {
  const args = baseArgs.map((a) => {
    if (!a.startsWith('{')) return a;
    const spec = JSON.parse(a);
    if (spec['node-name'] === 'disk0') spec.file.filename = disk;
    return JSON.stringify(spec);
  });
  if (vmstate) args.push('-incoming', 'defer');
  fs.rmSync(path.join(rawDir, 'qmp.sock'), { force: true });
  const qemu = spawn(binary, args, { stdio: 'ignore' });
  const qmp = await QmpClient.connect(path.join(rawDir, 'qmp.sock'), { retryUntil: Date.now() + 30_000, timeoutMs: 60_000 });
  if (vmstate) {
    await qmp.execute('migrate-incoming', { uri: `exec:cat ${shq(vmstate)}` });
    await waitMigration(qmp);
  }
  await qmp.execute('cont');
  return { qemu, qmp };
}

async function quitByHand(vm) {
  const exited = new Promise((r) => vm.qemu.once('exit', r));
  await vm.qmp.execute('quit').catch(() => undefined);
  await exited;
  vm.qmp.close();
}

/** Take by hand: the overlay, then pause, switch the disk, save RAM, continue. */
async function takeByHand(vm, dir, top) {
  const overlay = path.join(dir, `${randomUUID()}.qcow2`);
  const vmstate = path.join(dir, `${randomUUID()}.vmstate`);
  const t = performance.now();
  const size = JSON.parse(spawnSync('qemu-img', ['info', '-U', '--output=json', top.file], { encoding: 'utf8' }).stdout)['virtual-size'];
  qemuImg(['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', top.file, '-u', overlay, String(size)]);
  await vm.qmp.execute('stop');
  const node = `s${randomUUID().slice(0, 8)}`;
  await vm.qmp.execute('transaction', {
    actions: [
      {
        type: 'blockdev-snapshot-sync',
        data: { 'node-name': top.node, 'snapshot-file': overlay, 'snapshot-node-name': node, format: 'qcow2', mode: 'existing' },
      },
    ],
  });
  await vm.qmp.execute('migrate-set-parameters', { 'max-bandwidth': 2 ** 40 });
  await vm.qmp.execute('migrate', { uri: `exec:cat > ${shq(vmstate)}` });
  await waitMigration(vm.qmp);
  await vm.qmp.execute('cont');
  const ms = performance.now() - t;
  // What VMDesk also does before the snapshot counts: the RAM state made durable (fsync).
  const fd = fs.openSync(vmstate, 'r+');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  const durableMs = performance.now() - t;
  const frozen = top.file;
  top.node = node;
  top.file = overlay;
  return { ms, durableMs, vmstate, frozen };
}

const sb = sandbox();
Object.assign(process.env, { VMDESK_HOME: sb.home, VMDESK_RUNTIME_DIR: sb.runtime });
try {
  const core = new Core({ env: sb.env });
  for (const mib of SIZES) {
    const name = `s${mib}`;
    await (
      await core.create({ name, demo: true, memoryMiB: mib })
    ).result;
    await core.start(name);
    await core.waitForText(name, 'vmdesk-demo# ', { timeoutMs: 180_000 });
    await core.sendText(name, 'head -c 64m /dev/urandom > /tmp/fill; echo filled-$((20+22))\n');
    await core.waitForText(name, 'filled-42', { timeoutMs: 180_000, fromNow: false });
    const { uuid, dir } = await core.get(name);
    const launch = JSON.parse(fs.readFileSync(path.join(sb.runtime, uuid, 'launch.json'), 'utf8'));
    // Snapshot t0 (not timed) is what both sides restore; the guest by hand starts from it too.
    await core.snapshots.take(name, { name: 't0' }).result;
    const tree = JSON.parse(fs.readFileSync(path.join(dir, 'snapshots.json'), 'utf8'));
    const t0 = tree.snapshots.find((s) => s.name === 't0');
    const t0Disk = path.join(dir, t0.disks[0].file);
    const t0State = path.join(dir, t0.vmstate);
    await core.pause(name);

    // By hand: the same command line, in its own runtime dir, on its own overlay.
    const rawDir = path.join(sb.runtime, 'raw');
    fs.mkdirSync(rawDir, { recursive: true });
    const baseArgs = launch.args.map((a) => a.replaceAll(path.join(sb.runtime, uuid), rawDir));
    const handDir = path.join(dir, 'by-hand');
    fs.mkdirSync(handDir, { recursive: true });
    const first = path.join(handDir, 'start.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', t0Disk, first]);
    let vm = await launchByHand(launch.qemuBinary, baseArgs, rawDir, first, t0State);
    let top = { node: 'disk0', file: first };
    await vm.qmp.execute('stop');

    // Runs alternate, the other guest paused meanwhile so it takes no CPU.
    const take = [];
    const restore = [];
    const handTake = [];
    const handTakeDurable = [];
    const handRestore = [];
    for (let i = 0; i < RUNS; i++) {
      await core.resume(name);
      let t = performance.now();
      await core.snapshots.take(name, { name: `t${i + 1}` }).result;
      take.push(performance.now() - t);
      t = performance.now();
      await core.snapshots.restore(name, 't0').result;
      restore.push(performance.now() - t);
      await core.pause(name);

      await vm.qmp.execute('cont');
      const byHand = await takeByHand(vm, handDir, top);
      handTake.push(byHand.ms);
      handTakeDurable.push(byHand.durableMs);
      t = performance.now();
      await quitByHand(vm);
      const overlay = path.join(handDir, `${randomUUID()}.qcow2`);
      qemuImg(['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', t0Disk, overlay]);
      vm = await launchByHand(launch.qemuBinary, baseArgs, rawDir, overlay, t0State);
      handRestore.push(performance.now() - t);
      top = { node: 'disk0', file: overlay };
      await vm.qmp.execute('stop');
    }
    await quitByHand(vm);
    await core.shutdown(name, { force: true });

    const row = (what, mine, hand) => {
      const ratio = median(mine) / median(hand);
      out.push(`| ${what} | ${fmt(median(mine))} | ${fmt(median(hand))} | ${ratio.toFixed(2)} | ≤ 1.2 ${ratio <= 1.2 ? '✓' : '✗'} |`);
    };
    row(`live snapshot take, ${mib} MiB guest`, take, handTake);
    row(`live snapshot take, ${mib} MiB guest, vs by hand + fsync of the RAM state`, take, handTakeDurable);
    row(`live snapshot restore (running guest), ${mib} MiB guest`, restore, handRestore);
    await core.delete(name);
  }
} finally {
  sb.cleanup();
}
console.log(out.join('\n'));
