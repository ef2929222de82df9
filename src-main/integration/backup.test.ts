// Incremental backups of a real demo guest through the CLI: a stopped machine's full point (its
// images in qemu-storage-daemon), a running machine's incremental points the size of what the guest
// wrote, the bitmap kept across QEMU's exit, every point restored into a new machine holding the
// data of that point (one of them booted), a snapshot restore forcing a full point (and saying why),
// the chain verified, and a backup folder that lies (a backing file outside the chain) refused.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guestSays, makeSandbox, ok, vmdesk, type Sandbox } from './harness.js';

const MiB = 1024 * 1024;
const PROMPT = 'vmdesk-demo# ';
const SECTOR = 100;
let sb: Sandbox;
let target: string;

interface Outcome {
  point: number;
  kind: 'full' | 'incremental';
  reason: string | null;
  dir: string;
  bytes: number;
  via: string;
}
interface Listed {
  dir: string;
  points: Array<{ point: number; kind: string; bytes: number; reason?: string; disks: Array<{ file: string }> }>;
}

async function backup(name: string, extra: string[] = []): Promise<Outcome> {
  return JSON.parse(await ok(sb, ['backup', name, '--json', ...extra], { timeoutMs: 120_000 })) as Outcome;
}

/** The 512 bytes at SECTOR of a qcow2 image, read from a raw copy made by qemu-img. */
function sectorOf(image: string): string {
  const raw = path.join(sb.home, `read-${path.basename(path.dirname(path.dirname(image)))}.raw`);
  const r = spawnSync('qemu-img', ['convert', '-U', '-f', 'qcow2', '-O', 'raw', image, raw], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const fd = fs.openSync(raw, 'r');
  const buf = Buffer.alloc(512);
  fs.readSync(fd, buf, 0, 512, SECTOR * 512);
  fs.closeSync(fd);
  fs.rmSync(raw);
  return buf.toString('latin1').split('\n')[0] ?? '';
}

async function diskOf(name: string): Promise<string> {
  const shown = JSON.parse(await ok(sb, ['show', name, '--json'])) as { dir: string; config: { disks: Array<{ file: string }> } };
  return path.resolve(shown.dir, shown.config.disks[0]?.file ?? '');
}

/** The guest writes `text` at SECTOR of its disk (flushed), and `randomMiB` MiB of random data at 8 MiB. */
async function write(name: string, text: string, randomMiB = 0): Promise<void> {
  const random = randomMiB > 0 ? `dd if=/dev/urandom of=/dev/vda bs=1M seek=8 count=${randomMiB} conv=fsync 2>/dev/null; ` : '';
  await guestSays(
    sb,
    name,
    `${random}echo ${text} | dd of=/dev/vda bs=512 seek=${SECTOR} conv=fsync 2>/dev/null && echo wrote-$((6*7))`,
    'wrote-42',
    60,
  );
}

beforeAll(() => {
  sb = makeSandbox();
  target = path.join(sb.home, 'usb');
  fs.mkdirSync(target);
});
afterAll(async () => {
  await sb.cleanup();
});

describe('backups', () => {
  it('full, then incremental points of what changed; each point restores to its own data', { timeout: 300_000 }, async () => {
    await ok(sb, ['create', 'src', '--demo', '--memory', '128', '--disk', '64M']);
    const refused = await vmdesk(sb, ['backup', 'src']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/no backup folder yet/);
    expect((await vmdesk(sb, ['backup', 'src', '--to', path.join(sb.home, 'not-mounted')])).stderr).toMatch(/does not exist/);

    const first = await backup('src', ['--to', target]);
    expect(first).toMatchObject({ point: 1, kind: 'full', reason: null, via: 'qemu-storage-daemon' });

    await ok(sb, ['start', 'src']);
    await ok(sb, ['wait', 'src', '--text', PROMPT, '--timeout', '120']);
    await write('src', 'MARK-A', 4);
    const second = await backup('src');
    expect(second).toMatchObject({ point: 2, kind: 'incremental', reason: null, via: 'qemu' });
    // What changed (4 MiB and a sector), not the disk (64 MiB).
    expect(second.bytes).toBeGreaterThan(4 * MiB);
    expect(second.bytes).toBeLessThan(5 * MiB);

    // Snapshots between two points, one live and one of the stopped machine, carry the bitmap into
    // their overlays: the next point is still incremental, with what was written before them (2 MiB)
    // and after them (the sector).
    await write('src', 'MARK-X', 2);
    await ok(sb, ['snapshot', 'src', 'take', 'live between']);
    await write('src', 'MARK-B');
    await ok(sb, ['stop', 'src', '--force']);
    await ok(sb, ['snapshot', 'src', 'take', 'stopped between']);
    // The bitmap was saved in the image when QEMU exited: a stopped machine's next point is incremental.
    const third = await backup('src');
    expect(third).toMatchObject({ point: 3, kind: 'incremental', via: 'qemu-storage-daemon' });
    expect(third.bytes).toBeGreaterThan(2 * MiB);
    expect(third.bytes).toBeLessThan(3 * MiB);

    const listed = JSON.parse(await ok(sb, ['backups', 'src', '--json'])) as Listed;
    expect(listed.points.map((p) => p.kind)).toEqual(['full', 'incremental', 'incremental']);
    const text = await ok(sb, ['backups', 'src']);
    expect(text).toMatch(/2 {2}incremental/);

    for (const [point, mark] of [
      [1, ''],
      [2, 'MARK-A'],
      [3, 'MARK-B'],
    ] as const) {
      await ok(sb, ['backup-restore', 'src', String(point), '--as', `r${point}`], { timeoutMs: 120_000 });
      expect(sectorOf(await diskOf(`r${point}`)).replace(/\0+$/, '')).toBe(mark);
    }
    // A restored machine runs, and its guest reads the data of its point.
    await ok(sb, ['start', 'r2']);
    await ok(sb, ['wait', 'r2', '--text', PROMPT, '--timeout', '120']);
    await guestSays(sb, 'r2', `dd if=/dev/vda bs=512 skip=${SECTOR} count=1 2>/dev/null | head -n 1`, 'MARK-A', 60);
    await ok(sb, ['stop', 'r2', '--force']);

    // A snapshot restored: the disk is another image, the bitmap's guarantee is gone → full, and why.
    await ok(sb, ['snapshot', 'src', 'take', 'before']);
    await ok(sb, ['snapshot', 'src', 'restore', 'before']);
    const fourth = await backup('src');
    expect(fourth).toMatchObject({ point: 4, kind: 'full' });
    expect(fourth.reason).toMatch(/disk disk0 is another image since the last backup/);
    const plain = await ok(sb, ['backup', 'src']);
    expect(plain).toMatch(/^Point 5 of src: incremental/);

    const verified = await ok(sb, ['backup-verify', 'src']);
    expect(verified).toMatch(/5 points, 5 images: all intact/);

    // Over the machine itself: refused without --force, then done.
    expect((await vmdesk(sb, ['backup-restore', 'src', '2'])).stderr).toMatch(/confirm with --force/);
    await ok(sb, ['backup-restore', 'src', '2', '--force']);
    expect(sectorOf(await diskOf('src')).replace(/\0+$/, '')).toBe('MARK-A');
    const after = await backup('src');
    expect(after).toMatchObject({ point: 6, kind: 'full' });
    // The image is new (restored), whichever way the chain first notices it.
    expect(after.reason).toMatch(/is another image since the last backup|no change tracking since the last backup/);
  });

  it('--keep N merges the oldest points into the oldest kept one, which restores as before', { timeout: 120_000 }, async () => {
    await ok(sb, ['create', 'kept', '--demo', '--memory', '64', '--disk', '32M']);
    const disk = await diskOf('kept');
    const usb = path.join(sb.home, 'usb-kept');
    fs.mkdirSync(usb);
    // Point n holds byte 0x40+n at 1 MiB (written through QEMU's block layer, as a guest's writes are).
    for (let n = 1; n <= 5; n++) {
      if (n > 1) expect(spawnSync('qemu-io', ['-f', 'qcow2', '-c', `write -P ${0x40 + n} 1M 64k`, disk]).status).toBe(0);
      const out = await backup('kept', n === 1 ? ['--to', usb] : n === 5 ? ['--keep', '2'] : []);
      expect(out).toMatchObject({ point: n, kind: n === 1 ? 'full' : 'incremental', pruned: n === 5 ? [1, 2, 3] : [] });
    }
    const listed = JSON.parse(await ok(sb, ['backups', 'kept', '--json'])) as Listed;
    expect(listed.points.map((p) => [p.point, p.kind])).toEqual([
      [4, 'full'],
      [5, 'incremental'],
    ]);
    expect(listed.points[0]?.reason).toMatch(/merged into it \(--keep 2\)/);
    expect(fs.readdirSync(listed.dir).sort()).toEqual(['0004-incremental', '0005-incremental', 'files', 'manifest.json']);
    expect(await ok(sb, ['backup-verify', 'kept'])).toMatch(/2 points, 2 images: all intact/);
    expect((await vmdesk(sb, ['backup-restore', 'kept', '2', '--as', 'gone'])).stderr).toMatch(/has no point 2 \(it has 4, 5\)/);
    for (const n of [4, 5]) {
      await ok(sb, ['backup-restore', 'kept', String(n), '--as', `kept${n}`]);
      const raw = path.join(sb.home, `kept${n}.raw`);
      expect(spawnSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', await diskOf(`kept${n}`), raw]).status).toBe(0);
      expect(fs.readFileSync(raw)[MiB]).toBe(0x40 + n);
      fs.rmSync(raw);
    }
    // The chain goes on: the next point is incremental on the merged one.
    expect(spawnSync('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x50 2M 64k', disk]).status).toBe(0);
    expect(await backup('kept')).toMatchObject({ point: 6, kind: 'incremental' });
  });

  it(
    '--keep-daily keeps the newest point of each day: a dropped point between kept ones is merged into the next',
    { timeout: 120_000 },
    async () => {
      await ok(sb, ['create', 'daily', '--demo', '--memory', '64', '--disk', '32M']);
      const disk = await diskOf('daily');
      const usb = path.join(sb.home, 'usb-daily');
      fs.mkdirSync(usb);
      // Point n holds byte 0x60+n at n MiB (each point its own cluster, so a merge that lost one would show).
      const make = async (n: number, extra: string[] = []): Promise<Outcome & { pruned: number[] }> => {
        if (n > 1) expect(spawnSync('qemu-io', ['-f', 'qcow2', '-c', `write -P ${0x60 + n} ${n}M 64k`, disk]).status).toBe(0);
        return (await backup('daily', [...(n === 1 ? ['--to', usb] : []), ...extra])) as Outcome & { pruned: number[] };
      };
      for (let n = 1; n <= 4; n++) await make(n);
      // Their dates moved into the past: point 1 three days ago, 2 and 3 the day before yesterday, 4 yesterday.
      const chainDir = (JSON.parse(await ok(sb, ['backups', 'daily', '--json'])) as Listed).dir;
      const manifestFile = path.join(chainDir, 'manifest.json');
      const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { points: Array<{ createdAt: string }> };
      const day = (back: number, hour: number): string => {
        const d = new Date(Date.now() - back * 86_400_000);
        d.setHours(hour, 0, 0, 0);
        return d.toISOString();
      };
      [day(3, 10), day(2, 10), day(2, 11), day(1, 10)].forEach((at, i) => {
        if (manifest.points[i]) manifest.points[i].createdAt = at;
      });
      fs.writeFileSync(manifestFile, JSON.stringify(manifest));
      // Today's point, keeping one a day for four days: 5 (today), 4, 3 (the newest of its day), 1; 2 goes.
      const out = await make(5, ['--keep-daily', '4']);
      expect(out).toMatchObject({ point: 5, kind: 'incremental', pruned: [2] });
      const listed = JSON.parse(await ok(sb, ['backups', 'daily', '--json'])) as Listed;
      expect(listed.points.map((p) => [p.point, p.kind])).toEqual([
        [1, 'full'],
        [3, 'incremental'],
        [4, 'incremental'],
        [5, 'incremental'],
      ]);
      expect(listed.points[1]?.reason).toMatch(/point 2 merged into it \(--keep-daily 4\)/);
      expect(fs.existsSync(path.join(chainDir, '0002-incremental'))).toBe(false);
      expect(await ok(sb, ['backup-verify', 'daily'])).toMatch(/4 points, 4 images: all intact/);
      // Each kept point restores to its own data: point 3 holds what point 2 wrote too, point 1 neither.
      for (const n of [1, 3, 5]) {
        await ok(sb, ['backup-restore', 'daily', String(n), '--as', `daily${n}`]);
        const raw = path.join(sb.home, `daily${n}.raw`);
        expect(spawnSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', await diskOf(`daily${n}`), raw]).status).toBe(0);
        const data = fs.readFileSync(raw);
        for (let m = 2; m <= 5; m++) expect(data[m * MiB], `point ${n}, byte at ${m} MiB`).toBe(m <= n ? 0x60 + m : 0);
        fs.rmSync(raw);
      }
      // Bad rules are refused before anything is done.
      const bad = await vmdesk(sb, ['backup', 'daily', '--keep-daily', 'many']);
      expect(bad.code).toBe(2);
    },
  );

  it('a chain whose image reads from a host file, or damaged, is refused and reported', { timeout: 60_000 }, async () => {
    const listed = JSON.parse(await ok(sb, ['backups', 'src', '--json'])) as Listed;
    const image = listed.points[1]?.disks[0]?.file ?? '';
    const secret = path.join(sb.home, 'secret.raw');
    fs.writeFileSync(secret, 'SECRET-OF-THE-HOST\n'.padEnd(1 * MiB, '\0'));
    // The image of point 2 rewritten to read from a host file, the manifest made to agree with it.
    fs.rmSync(image);
    spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', secret, '-F', 'raw', image, '64M']);
    const manifestFile = path.join(listed.dir, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as {
      points: Array<{ disks: Array<{ bytes: number; sha256: string }> }>;
    };
    const disk = manifest.points[1]?.disks[0];
    if (!disk) throw new Error('no point 2');
    disk.bytes = fs.statSync(image).size;
    disk.sha256 = spawnSync('sha256sum', [image], { encoding: 'utf8' }).stdout.split(' ')[0] ?? '';
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));

    const restore = await vmdesk(sb, ['backup-restore', 'src', '3', '--as', 'leak']);
    expect(restore.code).toBe(2);
    expect(restore.stderr).toMatch(/secret\.raw/);
    expect(fs.existsSync(path.join(sb.home, 'machines', 'leak'))).toBe(false);
    const verify = await vmdesk(sb, ['backup-verify', 'src']);
    expect(verify.code).toBe(2);
    expect(verify.stdout).toMatch(/point 2, disk disk0: .*secret\.raw/);

    // A manifest naming a folder outside the chain is not a manifest.
    fs.writeFileSync(manifestFile, fs.readFileSync(manifestFile, 'utf8').replace('"0001-full"', '"../../etc"'));
    expect((await vmdesk(sb, ['backups', 'src'])).stderr).toMatch(/not a plain file name/);
  });
});
