// Export and import of a machine with a 1 GiB disk (256 MiB of data): `vmdesk export` / `vmdesk import`
// vs the same work by hand (qemu-img convert to a streamOptimized vmdk, sha256sum, GNU tar; then
// tar x, sha256sum -c and qemu-img convert to qcow2). Runs alternate; medians shown.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cli, fmt, median, sandbox } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const sb = sandbox();

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function time(fn) {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

try {
  const work = fs.mkdtempSync(path.join(sb.home, 'bench-'));
  const seed = path.join(work, 'seed.qcow2');
  sh('qemu-img', ['create', '-q', '-f', 'qcow2', seed, '1G']);
  // 256 MiB of data in four runs of different bytes, the rest unallocated.
  for (let i = 0; i < 4; i++) sh('qemu-io', ['-c', `write -P 0x${(0x31 + i).toString(16)} ${i * 256}M 64M`, seed]);
  cli(sb, ['import', seed, '--name', 'bench']);
  const { dir } = JSON.parse(cli(sb, ['show', 'bench', '--json']));
  const disk = path.join(dir, 'disks', 'disk0.qcow2');
  const rows = { vmdeskExport: [], handExport: [], vmdeskImport: [], handImport: [] };

  for (let i = 0; i < RUNS; i++) {
    const ova = path.join(work, `v${i}.ova`);
    rows.vmdeskExport.push(time(() => cli(sb, ['export', 'bench', ova])));

    const hand = fs.mkdtempSync(path.join(work, 'hand-'));
    rows.handExport.push(
      time(() => {
        sh('qemu-img', [
          'convert',
          '-f',
          'qcow2',
          '-O',
          'vmdk',
          '-o',
          'subformat=streamOptimized',
          disk,
          path.join(hand, 'bench-disk001.vmdk'),
        ]);
        fs.writeFileSync(path.join(hand, 'bench.ovf'), '<Envelope/>');
        fs.writeFileSync(path.join(hand, 'bench.mf'), sh('sha256sum', ['bench.ovf', 'bench-disk001.vmdk'], { cwd: hand }));
        sh('tar', ['--format=ustar', '-cf', path.join(work, `h${i}.ova`), '-C', hand, 'bench.ovf', 'bench.mf', 'bench-disk001.vmdk']);
      }),
    );

    rows.vmdeskImport.push(time(() => cli(sb, ['import', ova, '--name', `imp${i}`])));

    const out = fs.mkdtempSync(path.join(work, 'out-'));
    rows.handImport.push(
      time(() => {
        sh('tar', ['xf', path.join(work, `h${i}.ova`), '-C', out]);
        sh('sha256sum', ['-c', 'bench.mf'], { cwd: out });
        sh('qemu-img', ['convert', '-O', 'qcow2', path.join(out, 'bench-disk001.vmdk'), path.join(out, 'disk0.qcow2')]);
      }),
    );
    cli(sb, ['delete', `imp${i}`]);
    for (const f of [ova, path.join(work, `h${i}.ova`)]) fs.rmSync(f);
    fs.rmSync(hand, { recursive: true });
    fs.rmSync(out, { recursive: true });
  }

  const line = (label, ms, ref) =>
    `${label.padEnd(44)} ${fmt(median(ms)).padStart(10)}${ref ? `  (${(median(ms) / median(ref)).toFixed(2)}× by hand)` : ''}`;
  console.log(`Export and import, 1 GiB disk with 256 MiB of data, median of ${RUNS}`);
  console.log(line('vmdesk export (OVA)', rows.vmdeskExport, rows.handExport));
  console.log(line('by hand: qemu-img convert + sha256sum + tar', rows.handExport));
  console.log(line('vmdesk import (OVA)', rows.vmdeskImport, rows.handImport));
  console.log(line('by hand: tar x + sha256sum -c + qemu-img convert', rows.handImport));
} finally {
  sb.cleanup();
}
