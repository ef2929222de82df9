import { defaultResources } from '../../api/machine-config.js';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MachineConfig } from '../../api/machine-config.js';
import { Library, loadMachineConfig, saveMachineConfig } from './library.js';

let home: string;
beforeEach(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'vmdesk-lib-'));
});
afterEach(async () => {
  await fs.rm(home, { recursive: true, force: true });
});

const config = (name: string, uuid: string): MachineConfig => ({
  version: 1,
  uuid,
  name,
  osType: 'linux',
  cpus: 1,
  memoryMiB: 128,
  firmware: 'bios',
  bootOrder: ['disk'],
  disks: [],
  cdrom: null,
  kernelBoot: null,
  nics: [],
  display: { adapter: 'std' },
  serial: { enabled: true },
  resources: defaultResources(),
  notes: '',
  createdAt: '2026-11-25T00:00:00.000Z',
});

describe('machine.json', () => {
  it('saves atomically: a reader never sees a torn or missing file, and the old file is replaced whole', async () => {
    const dir = path.join(home, 'atomic');
    await fs.mkdir(dir);
    const file = path.join(dir, 'machine.json');
    const c = { ...config('atomic', '3f0c7c1e-5d4b-4a8e-9a43-0c5b3a2e1f02'), notes: 'n'.repeat(10_000) };
    await saveMachineConfig(dir, c);
    // A handle opened on the old file: an atomic save renames a new file over it and leaves it whole.
    const old = await fs.open(file, 'r');
    const oldInode = (await old.stat()).ino;
    // A reader on every turn of the event loop while the saves run (each save awaits between its steps).
    const bad: string[] = [];
    let reads = 0;
    let saving = true;
    const reader = (async () => {
      while (saving) {
        try {
          JSON.parse(readFileSync(file, 'utf8'));
        } catch (err) {
          bad.push(String(err).slice(0, 80));
        }
        reads++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let cpus = 2; cpus <= 21; cpus++) await saveMachineConfig(dir, { ...c, cpus });
    saving = false;
    await reader;
    expect(bad).toEqual([]);
    expect(reads).toBeGreaterThan(20);
    expect((await fs.stat(file)).ino).not.toBe(oldInode);
    expect((JSON.parse(await old.readFile('utf8')) as MachineConfig).cpus).toBe(1);
    await old.close();
    expect((await loadMachineConfig(dir)).cpus).toBe(21);
  });

  it('keeps the previous version as .bak, leaves no temp file, and loads back', async () => {
    const dir = path.join(home, 'm');
    await fs.mkdir(dir);
    const c = config('m', '3f0c7c1e-5d4b-4a8e-9a43-0c5b3a2e1f00');
    await saveMachineConfig(dir, c);
    await saveMachineConfig(dir, { ...c, cpus: 2 });
    expect((await loadMachineConfig(dir)).cpus).toBe(2);
    expect(JSON.parse(await fs.readFile(path.join(dir, 'machine.json.bak'), 'utf8')).cpus).toBe(1);
    expect((await fs.readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('fills defaults of an older config without a version, and reports every problem at once', async () => {
    const dir = path.join(home, 'old');
    await fs.mkdir(dir);
    const { version: _v, display: _d, serial: _s, ...old } = config('old', '3f0c7c1e-5d4b-4a8e-9a43-0c5b3a2e1f01');
    await fs.writeFile(path.join(dir, 'machine.json'), JSON.stringify(old));
    const loaded = await loadMachineConfig(dir);
    expect(loaded).toMatchObject({ version: 1, display: { adapter: 'std' }, serial: { enabled: true } });

    await fs.writeFile(path.join(dir, 'machine.json'), JSON.stringify({ ...old, cpus: 0, memoryMiB: 1, name: 'a/b' }));
    const err = await loadMachineConfig(dir).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_INPUT' });
    const message = (err as Error).message;
    expect(message).toContain('name:');
    expect(message).toContain('cpus: At least 1 CPU');
    expect(message).toContain('memoryMiB: At least 16 MiB');
  });
});

describe('Library', () => {
  it('registers, lists, finds by name or uuid, and keeps names and uuids unique', async () => {
    const lib = new Library(home);
    expect(await lib.list()).toEqual([]);
    const a = path.join(home, 'machines', 'a');
    await fs.mkdir(a, { recursive: true });
    const c = config('a', '3f0c7c1e-5d4b-4a8e-9a43-0c5b3a2e1f02');
    await saveMachineConfig(a, c);
    await lib.register({ uuid: c.uuid, dir: a }, 'a');
    expect((await lib.find('a')).uuid).toBe(c.uuid);
    expect((await lib.find(c.uuid)).config.name).toBe('a');
    await expect(lib.register({ uuid: c.uuid, dir: a }, 'other')).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    await expect(lib.register({ uuid: '3f0c7c1e-5d4b-4a8e-9a43-0c5b3a2e1f03', dir: a }, 'a')).rejects.toMatchObject({
      code: 'ALREADY_EXISTS',
    });
    await expect(lib.find('nope')).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'No machine named "nope"' });
    await lib.unregister(c.uuid);
    expect(await lib.entries()).toEqual([]);
  });

  it('lists an unreadable machine with its error instead of failing the whole list', async () => {
    const lib = new Library(home);
    const dir = path.join(home, 'machines', 'broken');
    await fs.mkdir(dir, { recursive: true });
    await saveMachineConfig(dir, config('broken', '3f0c7c1e-5d4b-4a8e-9a43-0c5b3a2e1f04'));
    await lib.register({ uuid: '3f0c7c1e-5d4b-4a8e-9a43-0c5b3a2e1f04', dir }, 'broken');
    await fs.writeFile(path.join(dir, 'machine.json'), '{ torn');
    const [record] = await lib.list();
    expect(record?.config).toBeNull();
    expect(record?.error?.code).toBe('IO');
  });
});
