// A backup folder that fills up mid-backup (a small ext4 on a loop device, as root): the backup of a
// running demo guest fails cleanly (exit 10, the half-made point removed, the manifest untouched),
// the earlier chain still verifies, and the bitmap was not consumed: once space is freed the next
// point is incremental and holds what the guest wrote before the failure.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillFilesystem, guestSays, loopMount, makeSandbox, needsRoot, ok, vmdesk, type Sandbox } from './harness.js';

const MiB = 1024 * 1024;
const PROMPT = 'vmdesk-demo# ';
let sb: Sandbox;
let usb: string | null = null;

beforeAll(() => {
  sb = makeSandbox();
});
afterAll(async () => {
  if (usb) spawnSync('umount', ['-l', usb]);
  await sb.cleanup();
});

function tree(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
}

describe('a backup folder that fills up', () => {
  it('fails cleanly, keeps the chain valid and the bitmap whole', { timeout: 240_000 }, async (ctx) => {
    needsRoot(ctx, 'a small filesystem on a loop device');
    usb = loopMount(sb, 'usb', 24);
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
    const disk = path.join(sb.home, 'machines', 'back', 'disks', 'disk0.qcow2');
    const raw = path.join(sb.home, 'back.raw');
    expect(spawnSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', disk, raw]).status).toBe(0);
    expect(
      fs
        .readFileSync(raw)
        .subarray(100 * 512, 100 * 512 + 6)
        .toString(),
    ).toBe('MARK-C');
    fs.rmSync(raw);
  });
});
