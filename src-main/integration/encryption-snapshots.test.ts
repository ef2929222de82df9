// Snapshots and clones of an encrypted machine stay encrypted, with the demo guest through the real
// CLI: each new overlay has a LUKS header of its own, so what the guest writes after a snapshot never
// reaches a file in plain text; a restart, a restore, a deleted snapshot and a clone read the guest's
// data back with the passphrase; a stopped machine's snapshot needs it (a wrong one writes nothing);
// and the passphrase is in no file and no command line throughout.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandLinesHolding, filesHolding, makeKeys, marker, PROMPT, READ_MARKER, writeMarker, type Keys } from './encryption-helpers.js';
import { guestSays, makeSandbox, ok, vmdesk, type Sandbox } from './harness.js';

const BEFORE = marker('A');
const AFTER = marker('B');

let sb: Sandbox;
let keys: Keys;

beforeAll(() => {
  sb = makeSandbox();
  keys = makeKeys();
});
afterAll(async () => {
  await sb.cleanup();
  fs.rmSync(keys.dir, { recursive: true, force: true });
});

interface Shown {
  dir: string;
  config: { disks: Array<{ id: string; file: string; encrypted?: boolean }> };
  status: { state: string };
}

async function show(name: string): Promise<Shown> {
  return JSON.parse(await ok(sb, ['show', name, '--json'])) as Shown;
}

/** The image the machine's disk writes to now. */
async function topImage(name: string): Promise<string> {
  const { dir, config } = await show(name);
  return path.join(dir, config.disks[0]?.file ?? '');
}

/** Every image file of the machine folder (its logs hold what the guest printed). */
function imageFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.qcow2'))
    .map((f) => path.join(dir, f));
}

function isEncryptedImage(file: string): boolean {
  const info = JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', file], { encoding: 'utf8' })) as { encrypted?: boolean };
  return info.encrypted === true;
}

/** Neither marker is in any image in plain text, every image is encrypted, and the passphrase is nowhere. */
async function sealed(name: string): Promise<void> {
  const { dir } = await show(name);
  const images = imageFiles(dir);
  expect(images.length).toBeGreaterThan(0);
  for (const image of images) {
    expect(isEncryptedImage(image), image).toBe(true);
    expect(filesHolding(path.dirname(image), BEFORE).concat(filesHolding(path.dirname(image), AFTER))).toEqual([]);
  }
  expect(filesHolding(sb.home, keys.passphrase)).toEqual([]);
  expect(filesHolding(sb.runtime, keys.passphrase)).toEqual([]);
  expect(commandLinesHolding(keys.passphrase)).toEqual([]);
}

async function boot(name: string): Promise<void> {
  await ok(sb, ['start', name, '--passphrase-file', keys.passFile], { timeoutMs: 180_000 });
  await ok(sb, ['wait', name, '--text', PROMPT, '--timeout', '120']);
}

/** What sector 100 of the guest's disk holds, asked again until the (re)started guest answers. */
async function readBack(name: string): Promise<string> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      return await guestSays(sb, name, READ_MARKER, /MARK[AB]-\d+/, 10);
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
  }
}

describe('snapshots and clones of an encrypted machine', () => {
  it('a live snapshot: the new overlay is encrypted, and what the guest writes after it is in no image in plain text', async () => {
    await ok(sb, ['create', 'vault', '--demo', '--memory', '128', '--disk', '64M', '--encrypt', '--passphrase-file', keys.passFile]);
    await boot('vault');
    expect(await guestSays(sb, 'vault', writeMarker('A'), 'written-6', 60)).toBe('written-6');
    const taken = await vmdesk(sb, ['snapshot', 'vault', 'take', 'before'], { timeoutMs: 120_000 });
    expect(taken.code, taken.stderr).toBe(0);
    // Its RAM would be written unencrypted: the snapshot holds the disks only, and says so.
    expect(taken.stderr).toMatch(/the memory of a machine with encrypted disks is not saved/);
    const overlay = await topImage('vault');
    expect(overlay).toContain(`${path.sep}snapshots${path.sep}`);
    expect(isEncryptedImage(overlay)).toBe(true);
    expect(await guestSays(sb, 'vault', writeMarker('B'), 'written-6', 60)).toBe('written-6');
    await sealed('vault');
  }, 300_000);

  it('restarted with its passphrase, the guest reads what it wrote after the snapshot; restoring the snapshot brings back what was before', async () => {
    await ok(sb, ['stop', 'vault', '--force']);
    await boot('vault');
    expect(await readBack('vault')).toBe(AFTER);
    // Running: its QEMU makes the new overlay with the key it holds, and starts again from it.
    await ok(sb, ['snapshot', 'vault', 'restore', 'before'], { timeoutMs: 180_000 });
    expect(await readBack('vault')).toBe(BEFORE);
    expect(isEncryptedImage(await topImage('vault'))).toBe(true);
    await sealed('vault');
    await ok(sb, ['stop', 'vault', '--force']);
  }, 400_000);

  it('stopped: a snapshot without the passphrase, or with a wrong one, is refused and writes nothing; with it, the overlay is encrypted', async () => {
    const { dir } = await show('vault');
    const files = fs.readdirSync(path.join(dir, 'snapshots')).sort();
    const none = await vmdesk(sb, ['snapshot', 'vault', 'take', 'cold']);
    expect(none.code, none.stderr).toBe(2);
    expect(none.stderr).toMatch(/needs a passphrase: give --passphrase-file FILE/);
    const wrong = await vmdesk(sb, ['snapshot', 'vault', 'take', 'cold', '--passphrase-file', keys.wrongFile], { timeoutMs: 120_000 });
    expect(wrong.code, wrong.stderr).toBe(2);
    expect(wrong.stderr).toMatch(/Wrong passphrase for vault/);
    expect(fs.readdirSync(path.join(dir, 'snapshots')).sort()).toEqual(files);
    expect(await ok(sb, ['snapshot', 'vault', 'list'])).not.toContain('cold');
    await ok(sb, ['snapshot', 'vault', 'take', 'cold', '--passphrase-file', keys.passFile], { timeoutMs: 120_000 });
    await ok(sb, ['snapshot', 'vault', 'take', 'colder', '--passphrase-file', keys.passFile], { timeoutMs: 120_000 });
    expect(isEncryptedImage(await topImage('vault'))).toBe(true);
    await sealed('vault');
  }, 300_000);

  it('stopped: deleting snapshots merges their data and restoring one makes an encrypted overlay, with the passphrase; the guest reads its data back', async () => {
    const none = await vmdesk(sb, ['snapshot', 'vault', 'delete', 'colder']);
    expect(none.code, none.stderr).toBe(2);
    // "colder" rests on "cold": its data goes into the disk's overlay, which then rests on "cold".
    await ok(sb, ['snapshot', 'vault', 'delete', 'colder', '--passphrase-file', keys.passFile], { timeoutMs: 180_000 });
    // "before" is the bottom of the chain: its data goes into "cold", which then rests on nothing.
    await ok(sb, ['snapshot', 'vault', 'delete', 'before', '--passphrase-file', keys.passFile], { timeoutMs: 180_000 });
    const list = await ok(sb, ['snapshot', 'vault', 'list']);
    expect(list).toContain('cold');
    expect(list).not.toMatch(/colder|before/);
    // Restored while stopped: the new overlay is written with the passphrase too.
    expect((await vmdesk(sb, ['snapshot', 'vault', 'restore', 'cold'])).code).toBe(2);
    await ok(sb, ['snapshot', 'vault', 'restore', 'cold', '--passphrase-file', keys.passFile], { timeoutMs: 120_000 });
    await boot('vault');
    expect(await readBack('vault')).toBe(BEFORE);
    await sealed('vault');
  }, 400_000);

  it('clones: a linked clone of the running machine rests on an encrypted overlay, a full clone of the stopped one is encrypted; each starts with the passphrase and reads the data', async () => {
    // Running: its QEMU makes the linked clone's overlay, with no passphrase asked.
    await ok(sb, ['clone', 'vault', 'twin', '--linked'], { timeoutMs: 180_000 });
    await ok(sb, ['stop', 'vault', '--force']);
    const none = await vmdesk(sb, ['clone', 'vault', 'copy']);
    expect(none.code, none.stderr).toBe(2);
    const wrong = await vmdesk(sb, ['clone', 'vault', 'copy', '--passphrase-file', keys.wrongFile], { timeoutMs: 120_000 });
    expect(wrong.code, wrong.stderr).toBe(2);
    expect(wrong.stderr).toMatch(/Wrong passphrase for vault/);
    expect(await ok(sb, ['list'])).not.toContain('copy');
    await ok(sb, ['clone', 'vault', 'copy', '--passphrase-file', keys.passFile], { timeoutMs: 300_000 });
    const clones = ['twin', 'copy'];
    for (const name of clones) {
      expect((await show(name)).config.disks[0]?.encrypted).toBe(true);
      await sealed(name);
    }
    // Booted side by side: each unlocks its own chain.
    await Promise.all(clones.map((name) => boot(name)));
    for (const name of clones) expect(await readBack(name)).toBe(BEFORE);
    await sealed('twin');
    for (const name of clones) await ok(sb, ['stop', name, '--force']);
    await sealed('vault');
  }, 600_000);
});
