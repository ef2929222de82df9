// Disk-only snapshots of a stopped machine with real qemu-img images (no guest): data written
// through qemu-io after each snapshot is gone after restoring it, deleting a snapshot merges its
// data into its children, and bad input changes nothing.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Core } from '../core.js';
import { loadMachineConfig } from '../library/library.js';
import { hardwareDigest, loadSnapshots } from './store.js';

let home: string;
let runtime: string;
let core: Core;

beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-snap-'));
  runtime = fs.mkdtempSync('/tmp/vmsu-');
  core = new Core({ home, env: { ...process.env, VMDESK_HOME: home, VMDESK_RUNTIME_DIR: runtime } });
});
afterEach(() => {
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(runtime, { recursive: true, force: true });
});

async function machine(name = 'm'): Promise<{ dir: string; disk: () => Promise<string> }> {
  const { result } = core.create({ name, diskBytes: 4 * 1024 * 1024 });
  const created = await result;
  return {
    dir: created.dir,
    disk: async () => path.join(created.dir, (await loadMachineConfig(created.dir)).disks[0]?.file ?? ''),
  };
}

/** Write a byte pattern at an offset through qemu-io (as a guest write would land). */
function write(file: string, pattern: number, offset: number): void {
  execFileSync('qemu-io', ['-f', 'qcow2', '-c', `write -P ${pattern} ${offset} 64k`, file], { stdio: 'pipe' });
}

/** Whether the disk reads this pattern at that offset (through its whole backing chain). */
function reads(file: string, pattern: number, offset: number): boolean {
  try {
    const out = execFileSync('qemu-io', ['-f', 'qcow2', '-r', '-c', `read -P ${pattern} ${offset} 64k`, file], {
      encoding: 'utf8',
      stdio: 'pipe',
    });
    return !/Pattern verification failed/.test(out);
  } catch {
    return false;
  }
}

describe('snapshots of a stopped machine', () => {
  it('takes, restores and deletes disk snapshots, keeping every other snapshot intact', async () => {
    const m = await machine();
    write(await m.disk(), 1, 0);
    const one = await core.snapshots.take('m', { name: 'one', description: 'first' }).result;
    expect(one.kind).toBe('disk');
    write(await m.disk(), 2, 65536);
    await core.snapshots.take('m', { name: 'two' }).result;
    write(await m.disk(), 3, 131072);
    await core.snapshots.take('m', { name: 'three' }).result;
    write(await m.disk(), 4, 196608);

    const tree = await core.snapshots.list('m');
    expect(
      tree.roots.map((r) => [r.name, r.description, r.children.map((c) => [c.name, c.children.map((g) => [g.name, g.current])])]),
    ).toEqual([['one', 'first', [['two', [['three', true]]]]]]);

    // Restore "one": what came after it is gone, what came before is back.
    const restored = await core.snapshots.restore('m', 'one').result;
    expect(restored.warnings.join()).toMatch(/discarded/);
    expect(reads(await m.disk(), 1, 0)).toBe(true);
    expect(reads(await m.disk(), 2, 65536)).toBe(false);
    expect(loadSnapshots(m.dir).currentId).toBe(one.id);

    // Delete the middle one: "three" still has the data of "two" (merged into it).
    const twoFiles =
      loadSnapshots(m.dir)
        .snapshots.find((s) => s.name === 'two')
        ?.disks.map((d) => path.join(m.dir, d.file)) ?? [];
    await core.snapshots.delete('m', 'two').result;
    for (const f of twoFiles) expect(fs.existsSync(f)).toBe(false);
    await core.snapshots.restore('m', 'three').result;
    expect([reads(await m.disk(), 1, 0), reads(await m.disk(), 2, 65536), reads(await m.disk(), 3, 131072)]).toEqual([true, true, true]);
    expect(reads(await m.disk(), 4, 196608)).toBe(false);
    const after = await core.snapshots.list('m');
    expect(after.roots.map((r) => [r.name, r.children.map((c) => c.name)])).toEqual([['one', ['three']]]);

    // Delete the root: its data moves into its child, which then stands alone.
    await core.snapshots.delete('m', 'one').result;
    expect(reads(await m.disk(), 1, 0)).toBe(true);
    expect((await core.snapshots.list('m')).roots.map((r) => r.name)).toEqual(['three']);
  });

  it('refuses bad input and changes nothing', async () => {
    const m = await machine();
    await core.snapshots.take('m', { name: 'one' }).result;
    const before = fs.readFileSync(path.join(m.dir, 'snapshots.json'), 'utf8');
    const config = fs.readFileSync(path.join(m.dir, 'machine.json'), 'utf8');
    await expect(core.snapshots.take('m', { name: 'one' }).result).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(() => core.snapshots.take('m', { name: ' padded' })).toThrow(/must not start or end with a space/);
    expect(() => core.snapshots.take('m', { name: 'bad\u0007' })).toThrow(/control characters/);
    await expect(core.snapshots.restore('m', 'nope').result).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(core.snapshots.delete('m', 'nope').result).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(core.snapshots.saveState('m').result).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await expect(core.snapshots.discardState('m')).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await expect(core.snapshots.list('nobody')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(fs.readFileSync(path.join(m.dir, 'snapshots.json'), 'utf8')).toBe(before);
    expect(fs.readFileSync(path.join(m.dir, 'machine.json'), 'utf8')).toBe(config);
  });

  it('refuses a raw disk with a clear error, leaving no file behind', async () => {
    const m = await machine();
    const config = await loadMachineConfig(m.dir);
    const raw = path.join(m.dir, 'disks', 'raw.img');
    fs.writeFileSync(raw, Buffer.alloc(1024 * 1024));
    const patched = {
      ...config,
      disks: [...config.disks, { id: 'disk1', file: 'disks/raw.img', format: 'raw' as const, bus: 'virtio' as const, readOnly: false }],
    };
    fs.writeFileSync(path.join(m.dir, 'machine.json'), JSON.stringify(patched));
    await expect(core.snapshots.take('m', { name: 'one' }).result).rejects.toThrow(/disk1 is raw, and snapshots need qcow2 disks/);
    expect(fs.existsSync(path.join(m.dir, 'snapshots.json'))).toBe(false);
    expect(fs.existsSync(path.join(m.dir, 'snapshots'))).toBe(false);
  });

  it('ties a saved state to the hardware it was saved with', async () => {
    await machine();
    const config = (await core.get('m')).config;
    expect(hardwareDigest({ ...config, notes: 'changed', name: 'renamed' })).toBe(hardwareDigest(config));
    expect(hardwareDigest({ ...config, memoryMiB: config.memoryMiB * 2 })).not.toBe(hardwareDigest(config));
  });
});
