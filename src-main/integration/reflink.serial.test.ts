// A full clone on a filesystem with reflinks (XFS on a loop device the test makes, as root): the copy
// shares the source's extents (no space used, whatever the size) and is still independent of it.
// Runs alone (*.serial.test.ts): a loop mount as root.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IS_ROOT, makeSandbox, needsRoot, ok, type Sandbox } from './harness.js';

const MiB = 1024 * 1024;
let sb: Sandbox;
let mnt = '';
let env: Sandbox;

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function usedBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return (s.blocks - s.bfree) * s.bsize;
}

beforeAll(() => {
  sb = makeSandbox();
  if (!IS_ROOT) return;
  const image = path.join(sb.home, 'xfs.img');
  mnt = path.join(sb.home, 'xfs');
  fs.mkdirSync(mnt);
  run('truncate', ['-s', '512M', image]);
  run('mkfs.xfs', ['-q', '-f', '-m', 'reflink=1', image]);
  run('mount', ['-o', 'loop', image, mnt]);
  // The library lives on the XFS filesystem; the runtime dir stays short, in /tmp.
  env = { ...sb, env: { ...sb.env, VMDESK_HOME: path.join(mnt, 'library') } };
});

afterAll(async () => {
  if (mnt) spawnSync('umount', ['-l', mnt]);
  await sb.cleanup();
});

describe('full clone on a filesystem with reflinks (XFS on a loop device)', () => {
  beforeEach((ctx) => needsRoot(ctx, 'an XFS filesystem on a loop device'));
  it('reflinks the disk: the same bytes, no space used, and the copy stays independent', async () => {
    const raw = path.join(mnt, 'data.raw');
    const fd = fs.openSync(raw, 'w');
    for (let i = 0; i < 96; i++) fs.writeSync(fd, randomBytes(MiB));
    fs.closeSync(fd);
    await ok(env, ['create', 'src', '--import-disk', raw, '--memory', '64', '--os', 'other'], { timeoutMs: 120_000 });
    fs.rmSync(raw);
    const srcDisk = path.join(mnt, 'library', 'machines', 'src', 'disks', 'disk0.qcow2');
    const srcSum = sha256(srcDisk);
    spawnSync('sync');
    const before = usedBytes(mnt);

    const out = JSON.parse(await ok(env, ['clone', 'src', 'copy', '--json'])) as { disks: Array<{ method: string; file: string }> };
    expect(out.disks).toEqual([{ id: 'disk0', method: 'reflink', file: 'disks/disk0.qcow2' }]);
    spawnSync('sync');
    const grew = usedBytes(mnt) - before;
    // 96 MiB of data copied by convert would take ~96 MiB more; a reflink takes metadata only.
    expect(grew).toBeLessThan(8 * MiB);
    const copyDisk = path.join(mnt, 'library', 'machines', 'copy', 'disks', 'disk0.qcow2');
    expect(sha256(copyDisk)).toBe(srcSum);

    // Writes to the copy stay in the copy (copy-on-write of the shared extents).
    run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x55 0 4M', copyDisk]);
    expect(sha256(srcDisk)).toBe(srcSum);
    expect(sha256(copyDisk)).not.toBe(srcSum);
    expect(run('qemu-img', ['check', '-q', copyDisk])).toBe('');
  });
});
