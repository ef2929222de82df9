// A backup folder that fills up mid-backup (a small ext4 on a loop device, as root): the backup of a
// running demo guest fails cleanly (exit 10, the half-made point removed, the manifest untouched),
// the earlier chain still verifies, and the bitmap was not consumed: once space is freed the next
// point is incremental and holds what the guest wrote before the failure.
// A backup folder that disappears mid-backup (a slow FUSE filesystem, lazyfs.py, unmounted and its
// daemon killed, as a USB disk pulled out): the backup fails with the reason, the guest runs on;
// plugged in again, the chain verifies and the next point is incremental with what the guest wrote.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  fillFilesystem,
  guestSays,
  demoBootMiB,
  loopMount,
  makeSandbox,
  needsRoot,
  ok,
  skipBecause,
  vmdesk,
  type Sandbox,
} from './harness.js';
import { LAZYFS_MISSING, mountLazyFs, type LazyFs } from './lazyfs.js';

const MiB = 1024 * 1024;
const PROMPT = 'vmdesk-demo# ';
let sb: Sandbox;
let usb: string | null = null;
let stick: LazyFs | null = null;

beforeAll(() => {
  sb = makeSandbox();
});
afterAll(async () => {
  if (usb) spawnSync('umount', ['-l', usb]);
  stick?.unmount();
  await sb.cleanup();
});

function tree(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
}

/** The raw bytes of a restored machine's disk at a sector. */
function diskBytes(machine: string, sector: number, length: number): string {
  const disk = path.join(sb.home, 'machines', machine, 'disks', 'disk0.qcow2');
  const raw = path.join(sb.home, `${machine}.raw`);
  expect(spawnSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', disk, raw]).status).toBe(0);
  const bytes = fs
    .readFileSync(raw)
    .subarray(sector * 512, sector * 512 + length)
    .toString();
  fs.rmSync(raw);
  return bytes;
}

describe('a backup folder that fills up', () => {
  it('fails cleanly, keeps the chain valid and the bitmap whole', { timeout: 240_000 }, async (ctx) => {
    needsRoot(ctx, 'a small filesystem on a loop device');
    // As much room again as the demo guest's boot files take in the first backup.
    usb = loopMount(sb, 'usb', 24 + demoBootMiB());
    await ok(sb, ['create', 'fill', '--demo', '--memory', '128', '--disk', '64M']);
    await ok(sb, ['start', 'fill']);
    await ok(sb, ['wait', 'fill', '--text', PROMPT, '--timeout', '120']);
    const first = JSON.parse(await ok(sb, ['backup', 'fill', '--to', usb, '--json'])) as { dir: string; kind: string };
    expect(first.kind).toBe('full');
    const chain = first.dir;
    const before = tree(chain);
    const manifest = fs.readFileSync(path.join(chain, 'manifest.json'), 'utf8');

    await guestSays(
      sb,
      'fill',
      'dd if=/dev/urandom of=/dev/vda bs=1M seek=8 count=8 conv=fsync 2>/dev/null; echo MARK-C | dd of=/dev/vda bs=512 seek=100 conv=fsync 2>/dev/null && echo wrote-$((6*7))',
      'wrote-42',
      60,
    );
    const filler = fillFilesystem(usb, 2 * MiB);
    const failed = await vmdesk(sb, ['backup', 'fill'], { timeoutMs: 120_000 });
    expect(failed.code).toBe(10);
    expect(failed.stderr).toMatch(/No space left on device/);
    expect(tree(chain)).toEqual(before);
    expect(fs.readFileSync(path.join(chain, 'manifest.json'), 'utf8')).toBe(manifest);
    expect(await ok(sb, ['backup-verify', 'fill'])).toMatch(/1 points, 1 images: all intact/);
    expect(JSON.parse(await ok(sb, ['show', 'fill', '--json']))).toMatchObject({ status: { state: 'running' } });

    fs.rmSync(filler);
    const second = JSON.parse(await ok(sb, ['backup', 'fill', '--json'])) as { kind: string; bytes: number };
    expect(second.kind).toBe('incremental');
    expect(second.bytes).toBeGreaterThan(8 * MiB);
    await ok(sb, ['stop', 'fill', '--force']);
    await ok(sb, ['backup-restore', 'fill', '2', '--as', 'back']);
    expect(diskBytes('back', 100, 6)).toBe('MARK-C');
  });
});

describe('a backup folder that disappears', () => {
  it(
    'fails with the reason, keeps the guest running; plugged in again the chain is whole and goes on',
    { timeout: 240_000 },
    async (ctx) => {
      needsRoot(ctx, 'a FUSE mount');
      if (LAZYFS_MISSING) skipBecause(ctx, LAZYFS_MISSING);
      const dir = path.join(sb.home, 'stick');
      fs.mkdirSync(dir);
      // Some 1 MB/s: the 8 MiB the guest writes take seconds to back up, time to pull the stick.
      const plugIn = (): Promise<LazyFs> => mountLazyFs(dir, 'mnt', ['--write-delay-ms', '3'], { backingExists: true });
      stick = await plugIn();
      await ok(sb, ['create', 'pulled', '--demo', '--memory', '128', '--disk', '64M']);
      await ok(sb, ['start', 'pulled']);
      await ok(sb, ['wait', 'pulled', '--text', PROMPT, '--timeout', '120']);
      const first = JSON.parse(await ok(sb, ['backup', 'pulled', '--to', stick.mount, '--json'], { timeoutMs: 120_000 })) as {
        dir: string;
        kind: string;
      };
      expect(first.kind).toBe('full');
      const chainOnStick = path.relative(stick.mount, first.dir);
      const manifest = fs.readFileSync(path.join(first.dir, 'manifest.json'), 'utf8');

      await guestSays(
        sb,
        'pulled',
        'dd if=/dev/urandom of=/dev/vda bs=1M seek=8 count=8 conv=fsync 2>/dev/null; echo MARK-U | dd of=/dev/vda bs=512 seek=200 conv=fsync 2>/dev/null && echo wrote-$((6*7))',
        'wrote-42',
        60,
      );
      const backup = vmdesk(sb, ['backup', 'pulled'], { timeoutMs: 120_000 });
      // Pulled out once the new point is being written.
      const pointDir = path.join(first.dir, '0002-incremental');
      await eventually(
        () => Promise.resolve(fs.existsSync(pointDir) && fs.readdirSync(pointDir).length > 0),
        (writing) => writing,
        60_000,
      );
      await new Promise((r) => setTimeout(r, 1000));
      stick.unmount();
      const failed = await backup;
      expect(failed.code, failed.stderr).not.toBe(0);
      // The words of the kernel's FUSE for a filesystem gone under a writer: which one depends on the moment.
      expect(failed.stderr).toMatch(
        /The backup of disk disk0 failed: (Transport endpoint is not connected|Input\/output error|Software caused connection abort)/,
      );
      expect(JSON.parse(await ok(sb, ['show', 'pulled', '--json']))).toMatchObject({ status: { state: 'running' } });
      expect(await guestSays(sb, 'pulled', 'echo alive-$((5*5))', 'alive-25', 30)).toBe('alive-25');

      // Plugged in again at the same place: the chain is as it was, and goes on from where it was.
      stick = await plugIn();
      // What the failed backup could not remove is there; the next backup replaces it.
      expect(fs.readdirSync(pointDir)).toEqual(['disk0.qcow2']);
      expect(fs.readFileSync(path.join(stick.mount, chainOnStick, 'manifest.json'), 'utf8')).toBe(manifest);
      expect(await ok(sb, ['backup-verify', 'pulled'])).toMatch(/1 points, 1 images: all intact/);
      const second = JSON.parse(await ok(sb, ['backup', 'pulled', '--json'], { timeoutMs: 120_000 })) as { kind: string; bytes: number };
      expect(second.kind).toBe('incremental');
      expect(second.bytes).toBeGreaterThan(8 * MiB);
      expect(await ok(sb, ['backup-verify', 'pulled'])).toMatch(/2 points, 2 images: all intact/);
      await ok(sb, ['stop', 'pulled', '--force']);
      await ok(sb, ['backup-restore', 'pulled', '2', '--as', 'plugged']);
      expect(diskBytes('plugged', 200, 6)).toBe('MARK-U');
    },
  );
});
