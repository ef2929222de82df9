// Protection.
// - backups: a 4 GiB disk full of data backed up in full, then 64 MiB of it changed and backed up
//   incrementally (only the clusters the dirty bitmap marks), side by side with the copy a person
//   would make by hand, `qemu-img convert -O qcow2` of the whole disk. Time and bytes written. The
//   machine is stopped (its images in qemu-storage-daemon: the same QMP jobs as a running QEMU).
//   BENCH_RUNS (3), BENCH_DISK_MIB (4096), BENCH_CHANGED_MIB (64).
// - encryption: `dd` inside two demo guests, one with a plain disk and one with a LUKS-encrypted
//   one, writing (conv=fsync) and then reading (caches dropped) the same BENCH_DD_MIB (192) of its
//   disk; the guests run one at a time, turn about, BENCH_RUNS times each.
// Medians shown. BENCH_PROTECTION_PARTS=backup,encryption chooses parts.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI, fmt, machineInfo, median, sandbox } from './lib.mjs';
import { Console, connectUnix } from './qemu-lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DISK_MIB = Number(process.env.BENCH_DISK_MIB ?? 4096);
const CHANGED_MIB = Number(process.env.BENCH_CHANGED_MIB ?? 64);
const DD_MIB = Number(process.env.BENCH_DD_MIB ?? 192);
const PARTS = new Set((process.env.BENCH_PROTECTION_PARTS ?? 'backup,encryption').split(','));
const MiB = 1024 * 1024;
const PROMPT = 'vmdesk-demo# ';

function run(cmd, args, env) {
  const t = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: env ?? process.env, maxBuffer: 16 * MiB });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

/** Non-zero data in every cluster, different per MiB, so that nothing is skipped as zeros. */
function dataImage(file, mib) {
  const chunk = Buffer.alloc(MiB);
  const fd = fs.openSync(file, 'w');
  for (let m = 0; m < mib; m++) {
    for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((i * 2654435761 + m) >>> 0, i);
    fs.writeSync(fd, chunk);
  }
  fs.closeSync(fd);
}

function backups() {
  const sb = sandbox();
  try {
    const raw = path.join(sb.home, 'data.raw');
    dataImage(raw, DISK_MIB);
    run(process.execPath, [CLI, 'create', 'bench', '--import-disk', raw, '--memory', '128'], sb.env);
    fs.rmSync(raw);
    const shown = JSON.parse(run(process.execPath, [CLI, 'show', 'bench', '--json'], sb.env).stdout);
    const disk = path.resolve(shown.dir, shown.config.disks[0].file);
    const figures = { full: [], fullBytes: [], incr: [], incrBytes: [], convert: [], convertBytes: [] };
    for (let i = 0; i < RUNS; i++) {
      const target = path.join(sb.home, `usb-${i}`);
      fs.mkdirSync(target);
      const full = run(process.execPath, [CLI, 'backup', 'bench', '--to', target, '--json', '--full'], sb.env);
      const f = JSON.parse(full.stdout);
      if (f.kind !== 'full') throw new Error(`expected a full point, got ${f.kind}`);
      figures.full.push(full.ms);
      figures.fullBytes.push(f.bytes);
      // The change, written through QEMU's block layer (as a guest's writes are): the bitmap records it.
      run('qemu-io', ['-f', 'qcow2', '-c', `write -P 0x${(0x10 + i).toString(16)} ${1024 + i * CHANGED_MIB}M ${CHANGED_MIB}M`, disk]);
      const incr = run(process.execPath, [CLI, 'backup', 'bench', '--json'], sb.env);
      const n = JSON.parse(incr.stdout);
      if (n.kind !== 'incremental') throw new Error(`expected an incremental point, got ${n.kind}: ${n.reason}`);
      figures.incr.push(incr.ms);
      figures.incrBytes.push(n.bytes);
      const copy = path.join(sb.home, `by-hand-${i}.qcow2`);
      figures.convert.push(run('qemu-img', ['convert', '-O', 'qcow2', disk, copy]).ms);
      figures.convertBytes.push(fs.statSync(copy).size);
      fs.rmSync(copy);
      fs.rmSync(target, { recursive: true, force: true });
    }
    const mib = (b) => `${(median(b) / MiB).toFixed(1)} MiB`;
    const out = [
      `protection: backups (${machineInfo()}), ${DISK_MIB} MiB disk full of data, ${CHANGED_MIB} MiB changed, ${RUNS} runs, medians, wall time of the CLI command`,
      '| measure | time | bytes written |',
      '| --- | --- | --- |',
      `| \`vmdesk backup --full\` (first point) | ${fmt(median(figures.full))} | ${mib(figures.fullBytes)} |`,
      `| \`vmdesk backup\` after ${CHANGED_MIB} MiB changed (incremental) | ${fmt(median(figures.incr))} | ${mib(figures.incrBytes)} |`,
      `| by hand: \`qemu-img convert -O qcow2\` of the whole disk | ${fmt(median(figures.convert))} | ${mib(figures.convertBytes)} |`,
      `| incremental / by hand | ${(median(figures.incr) / median(figures.convert)).toFixed(3)} | ${(median(figures.incrBytes) / median(figures.convertBytes)).toFixed(4)} |`,
    ];
    console.log(out.join('\n'));
  } finally {
    sb.cleanup();
  }
}

/** Seconds of busybox `time`'s "real" line ("real\t0m 1.23s"). */
function realSeconds(text) {
  const m = /real\s+(?:(\d+)m\s*)?([\d.]+)s/.exec(text);
  if (!m) throw new Error(`no time in ${JSON.stringify(text.slice(-300))}`);
  return Number(m[1] ?? 0) * 60 + Number(m[2]);
}

/** Runs `line` in the guest and returns what it printed between two markers. */
let marks = 0;
async function inGuest(con, line) {
  marks += 1;
  const end = `done-${marks}`;
  const from = con.text.length;
  con.type(`${line}; echo ${end.replace('-', '-""')}`);
  await con.when(`\n${end}`, con.count(`\n${end}`) + 1, 300_000);
  return con.text.slice(from);
}

async function encryption() {
  const sb = sandbox();
  try {
    const key = path.join(sb.home, 'key');
    fs.writeFileSync(key, 'bench passphrase, not a secret\n', { mode: 0o600 });
    const machines = [
      { name: 'plain', create: [], start: [] },
      { name: 'luks', create: ['--encrypt', '--passphrase-file', key], start: ['--passphrase-file', key] },
    ];
    for (const m of machines) {
      run(process.execPath, [CLI, 'create', m.name, '--demo', '--memory', '256', ...m.create], sb.env);
      m.write = [];
      m.read = [];
    }
    for (let i = 0; i < RUNS; i++) {
      for (const m of i % 2 ? [...machines].reverse() : machines) {
        run(process.execPath, [CLI, 'start', m.name, ...m.start], sb.env);
        const uuid = JSON.parse(run(process.execPath, [CLI, 'show', m.name, '--json'], sb.env).stdout).config.uuid;
        const con = new Console(await connectUnix(path.join(sb.runtime, uuid, 'console.sock')));
        con.type('');
        await con.when(PROMPT);
        // Every cluster written once before the figures, so both measure overwrites, not allocation.
        await inGuest(con, `dd if=/dev/zero of=/dev/vda bs=1M count=${DD_MIB} conv=fsync 2>/dev/null`);
        const w = await inGuest(con, `time dd if=/dev/zero of=/dev/vda bs=1M count=${DD_MIB} conv=fsync`);
        m.write.push(realSeconds(w));
        const r = await inGuest(con, `sync; echo 3 > /proc/sys/vm/drop_caches; time dd if=/dev/vda of=/dev/null bs=1M count=${DD_MIB}`);
        m.read.push(realSeconds(r));
        con.close();
        run(process.execPath, [CLI, 'stop', m.name, '--force'], sb.env);
      }
    }
    const rate = (secs) => `${(DD_MIB / median(secs)).toFixed(1)} MiB/s (${median(secs).toFixed(2)} s)`;
    const [plain, luks] = machines;
    console.log(
      [
        `protection: encrypted vs plain disk inside the guest (${machineInfo()}), demo guest 256 MiB RAM, ${DD_MIB} MiB by dd bs=1M, ${RUNS} runs each, medians`,
        '| dd in the guest | plain qcow2 | LUKS qcow2 | encrypted / plain |',
        '| --- | --- | --- | --- |',
        `| write (conv=fsync) | ${rate(plain.write)} | ${rate(luks.write)} | ${(median(plain.write) / median(luks.write)).toFixed(3)} |`,
        `| read (caches dropped) | ${rate(plain.read)} | ${rate(luks.read)} | ${(median(plain.read) / median(luks.read)).toFixed(3)} |`,
      ].join('\n'),
    );
  } finally {
    sb.cleanup();
  }
}

if (PARTS.has('backup')) backups();
if (PARTS.has('encryption')) await encryption();
