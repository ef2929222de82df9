// Backups of an encrypted demo guest through the real CLI: its points are encrypted images (what the
// guest wrote is in none of them in plain text, the passphrase in no file and no command line), the
// running machine's made with the key its QEMU holds (nothing asked), the stopped machine's only with
// the right passphrase (a wrong one writes nothing), incremental as plain ones are; the chain
// verifies, retention merges it into a point that stays encrypted, and each point restores into a
// new encrypted machine (or over the machine itself) that starts with the same passphrase only and
// holds the data of that point.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupList, BackupOutcome } from '../api/backup.js';
import {
  commandLinesHolding,
  contains,
  filesHolding,
  makeKeys,
  marker,
  PROMPT,
  READ_MARKER,
  writeMarker,
  type Keys,
} from './encryption-helpers.js';
import { guestSays, makeSandbox, ok, vmdesk, type Sandbox } from './harness.js';

const MiB = 1024 * 1024;
let sb: Sandbox;
let keys: Keys;
let target: string;

beforeAll(() => {
  sb = makeSandbox();
  keys = makeKeys();
  target = path.join(sb.home, 'usb');
  fs.mkdirSync(target);
});
afterAll(async () => {
  await sb.cleanup();
  fs.rmSync(keys.dir, { recursive: true, force: true });
});

async function backup(extra: string[] = []): Promise<BackupOutcome> {
  return JSON.parse(await ok(sb, ['backup', 'vault', '--json', ...extra], { timeoutMs: 120_000 })) as BackupOutcome;
}

async function listed(): Promise<BackupList> {
  return JSON.parse(await ok(sb, ['backups', 'vault', '--json'])) as BackupList;
}

async function boot(name: string): Promise<void> {
  await ok(sb, ['start', name, '--passphrase-file', keys.passFile], { timeoutMs: 180_000 });
  await ok(sb, ['wait', name, '--text', PROMPT, '--timeout', '120']);
}

/** Every file of the backup folder, with its size: what a refused backup must leave as it was. */
function folderState(): string[] {
  return fs
    .readdirSync(target, { recursive: true, withFileTypes: true })
    .map((e) => path.join(e.parentPath, e.name))
    .map((f) => `${f} ${fs.statSync(f).size}`)
    .sort();
}

/**
 * Restores `point` as `name` (over the machine itself when it is "vault"), which must then refuse a
 * wrong passphrase and read back `tag`'s marker.
 */
async function restoreAndRead(point: number, name: string, tag: string): Promise<void> {
  const as = name === 'vault' ? ['--force'] : ['--as', name];
  await ok(sb, ['backup-restore', 'vault', String(point), ...as, '--passphrase-file', keys.passFile], { timeoutMs: 120_000 });
  const shown = JSON.parse(await ok(sb, ['show', name, '--json'])) as { config: { disks: Array<{ encrypted?: boolean }> } };
  expect(shown.config.disks.map((d) => d.encrypted)).toEqual([true]);
  const wrong = await vmdesk(sb, ['start', name, '--passphrase-file', keys.wrongFile], { timeoutMs: 120_000 });
  expect(wrong.code, wrong.stderr).toBe(2);
  expect(wrong.stderr).toMatch(new RegExp(`Wrong passphrase for ${name}`));
  await boot(name);
  expect(await guestSays(sb, name, READ_MARKER, /MARK[AB]-\d+/, 60)).toBe(marker(tag));
  await ok(sb, ['stop', name, '--force']);
}

describe('backups of an encrypted machine', () => {
  it('running: a full, then an incremental point, encrypted, made with no passphrase asked; no plain data, no passphrase anywhere', async () => {
    await ok(sb, ['create', 'vault', '--demo', '--memory', '128', '--disk', '64M', '--encrypt', '--passphrase-file', keys.passFile]);
    await boot('vault');
    expect(await guestSays(sb, 'vault', writeMarker('A'), 'written-6', 60)).toBe('written-6');
    // No --passphrase-file and no terminal: anything asking for it would fail.
    const full = await backup(['--to', target]);
    expect(full).toMatchObject({ point: 1, kind: 'full', via: 'qemu' });
    const random = 'dd if=/dev/urandom of=/dev/vda bs=1M seek=8 count=4 conv=fsync 2>/dev/null';
    expect(await guestSays(sb, 'vault', `${random}; ${writeMarker('B')}`, 'written-6', 60)).toBe('written-6');
    const incremental = await backup();
    expect(incremental).toMatchObject({ point: 2, kind: 'incremental', via: 'qemu' });
    // What changed (4 MiB and a sector), a LUKS header and qcow2 metadata: not the 64 MiB disk.
    expect(incremental.bytes).toBeGreaterThan(4 * MiB);
    expect(incremental.bytes).toBeLessThan(8 * MiB);

    const list = await listed();
    expect(list.points.map((p) => [p.kind, p.encrypted])).toEqual([
      ['full', true],
      ['incremental', true],
    ]);
    for (const p of list.points)
      for (const d of p.disks) {
        expect(d.encrypted).toBe(true);
        expect(contains(d.file, 'LUKS')).toBe(true);
        for (const tag of ['A', 'B']) expect(contains(d.file, marker(tag)), `${tag} in ${d.file}`).toBe(false);
      }
    expect((await ok(sb, ['backups', 'vault'])).split('\n').filter((l) => l.includes('encrypted'))).toHaveLength(2);
    for (const dir of [sb.home, target, sb.runtime]) expect(filesHolding(dir, keys.passphrase)).toEqual([]);
    expect(commandLinesHolding(keys.passphrase)).toEqual([]);
  }, 300_000);

  it('stopped: a wrong or missing passphrase writes nothing; the right one makes the point in qemu-storage-daemon', async () => {
    await ok(sb, ['stop', 'vault', '--force']);
    const before = folderState();
    const wrong = await vmdesk(sb, ['backup', 'vault', '--passphrase-file', keys.wrongFile], { timeoutMs: 120_000 });
    expect(wrong.code, wrong.stderr).toBe(2);
    expect(wrong.stderr).toMatch(/Wrong passphrase for vault/);
    const none = await vmdesk(sb, ['backup', 'vault']);
    expect(none.code, none.stderr).toBe(2);
    expect(none.stderr).toMatch(/vault needs a passphrase/);
    expect(folderState()).toEqual(before);

    // While qemu-storage-daemon holds the key, no command line holds the passphrase (it read it from a FIFO).
    const making = backup(['--passphrase-file', keys.passFile]);
    let finished = false;
    void making.finally(() => (finished = true));
    let daemonSeen = false;
    const leaks: number[] = [];
    while (!finished) {
      daemonSeen ||= commandLinesHolding('qemu-storage-daemon\0--object\0secret,id=vmdesk-key').length > 0;
      leaks.push(...commandLinesHolding(keys.passphrase));
      await new Promise((r) => setTimeout(r, 50));
    }
    const cold = await making;
    expect(cold).toMatchObject({ point: 3, kind: 'incremental', via: 'qemu-storage-daemon' });
    expect(daemonSeen).toBe(true);
    expect(leaks).toEqual([]);
    const image = (await listed()).points.at(-1)?.disks[0]?.file ?? '';
    expect(contains(image, 'LUKS')).toBe(true);
    for (const dir of [sb.home, target, sb.runtime]) expect(filesHolding(dir, keys.passphrase)).toEqual([]);
    // Without the key: checksums and headers; with it, qemu-img checks each encrypted image too.
    expect(await ok(sb, ['backup-verify', 'vault'])).toMatch(/3 points, 3 images: all intact/);
    expect(await ok(sb, ['backup-verify', 'vault', '--passphrase-file', keys.passFile])).toMatch(/3 points, 3 images: all intact/);
    const wrongKey = await vmdesk(sb, ['backup-verify', 'vault', '--passphrase-file', keys.wrongFile]);
    expect(wrongKey.code, wrongKey.stderr).toBe(2);
    expect(wrongKey.stderr).toMatch(/Wrong passphrase/);
  }, 300_000);

  it('each point restores into a new encrypted machine that starts with the passphrase and holds the data of that point', async () => {
    const none = await vmdesk(sb, ['backup-restore', 'vault', '1', '--as', 'nokey']);
    expect(none.code, none.stderr).toBe(2);
    expect(none.stderr).toMatch(/needs a passphrase/);
    const wrong = await vmdesk(sb, ['backup-restore', 'vault', '1', '--as', 'nokey', '--passphrase-file', keys.wrongFile]);
    expect(wrong.code, wrong.stderr).toBe(2);
    expect(wrong.stderr).toMatch(/Wrong passphrase/);
    expect(fs.existsSync(path.join(sb.home, 'machines', 'nokey'))).toBe(false);
    await restoreAndRead(1, 'from1', 'A');
    await restoreAndRead(2, 'from2', 'B');
  }, 400_000);

  it('retention merges the oldest points into an encrypted point that the later ones still read through; a point restores over the machine itself', async () => {
    // A snapshot of the stopped machine carries the change tracking into its encrypted overlay (opened
    // with the key): the next point is still incremental.
    await ok(sb, ['snapshot', 'vault', 'take', 'cold', '--passphrase-file', keys.passFile], { timeoutMs: 120_000 });
    const kept = await backup(['--keep', '2', '--passphrase-file', keys.passFile]);
    expect(kept).toMatchObject({ point: 4, kind: 'incremental', pruned: [1, 2] });
    const list = await listed();
    expect(list.points.map((p) => [p.point, p.kind, p.encrypted])).toEqual([
      [3, 'full', true],
      [4, 'incremental', true],
    ]);
    for (const p of list.points)
      for (const tag of ['A', 'B']) expect(contains(p.disks[0]?.file ?? '', marker(tag)), `${tag} in point ${p.point}`).toBe(false);
    expect(await ok(sb, ['backup-verify', 'vault'])).toMatch(/2 points, 2 images: all intact/);
    await restoreAndRead(4, 'from4', 'B');
    await restoreAndRead(3, 'vault', 'B');
    for (const dir of [sb.home, target, sb.runtime]) expect(filesHolding(dir, keys.passphrase)).toEqual([]);
  }, 400_000);
});
