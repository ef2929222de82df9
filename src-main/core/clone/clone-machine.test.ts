import { defaultResources } from '../../api/machine-config.js';
// Clone and move on real qcow2 files with real qemu-img, without booting anything: chains are
// flattened, linked overlays name their base absolutely, absolute backing names inside a moved
// folder become relative, abandoned staging folders are swept, and failures leave nothing behind.
import { randomUUID } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONFIG_VERSION, type MachineConfig } from '../../api/machine-config.js';
import { Library, saveMachineConfig } from '../library/library.js';
import type { TaskContext } from '../tasks/task-manager.js';
import { backingChain } from '../storage/image-chain.js';
import { dependentMachines } from '../storage/image-users.js';
import { listMedia } from '../storage/media-list.js';
import type { HostCapabilities } from '../host/capabilities.js';
import { modifyMachine } from '../machines/modify-machine.js';
import { cloneMachine } from './clone-machine.js';
import { moveMachine } from './move-machine.js';
import { OWNER_FILE, makeStaging, sweepStaging } from './staging.js';

let root: string;
let library: Library;
const ctx: TaskContext = { signal: new AbortController().signal, progress: () => undefined, detail: () => undefined };

function qemuImg(...args: string[]): string {
  return execFileSync('qemu-img', args, { encoding: 'utf8' });
}

function writePattern(file: string, text: string, offset: number): void {
  // qemu-io is not always there: write through a raw image converted in.
  const raw = `${file}.raw`;
  fs.writeFileSync(raw, Buffer.alloc(0));
  fs.truncateSync(raw, 4 * 1024 * 1024);
  const fd = fs.openSync(raw, 'r+');
  fs.writeSync(fd, Buffer.from(text), 0, text.length, offset);
  fs.closeSync(fd);
  qemuImg('convert', '-f', 'raw', '-O', 'qcow2', raw, file);
  fs.rmSync(raw);
}

async function makeMachine(
  name: string,
  dir: string,
  disks: MachineConfig['disks'],
): Promise<{ uuid: string; dir: string; config: MachineConfig }> {
  const config: MachineConfig = {
    version: CONFIG_VERSION,
    uuid: randomUUID(),
    name,
    osType: 'linux',
    cpus: 1,
    memoryMiB: 64,
    firmware: 'bios',
    bootOrder: ['disk'],
    disks,
    cdrom: { file: null },
    kernelBoot: null,
    nics: [{ id: 'net0', model: 'virtio-net-pci', mac: '52:54:00:00:00:01', cable: true, attachment: { type: 'nat', portForwards: [] } }],
    display: { adapter: 'none' },
    serial: { enabled: true },
    resources: defaultResources(),
    notes: '',
    createdAt: new Date().toISOString(),
  };
  await saveMachineConfig(dir, config);
  await library.register({ uuid: config.uuid, dir }, name);
  return { uuid: config.uuid, dir, config };
}

beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-clone-'));
  library = new Library(path.join(root, 'home'));
  await library.ensure();
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

/** A machine whose disk0 is an overlay (relative backing) on a frozen image holding `base-marker`. */
async function chainedMachine(name = 'src'): Promise<{ uuid: string; dir: string; config: MachineConfig; frozen: string }> {
  const dir = path.join(library.machinesDir, name);
  fs.mkdirSync(path.join(dir, 'disks'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'snapshots'));
  const frozen = path.join(dir, 'disks', 'disk0.qcow2');
  writePattern(frozen, 'base-marker', 65536);
  qemuImg('create', '-q', '-f', 'qcow2', '-b', '../disks/disk0.qcow2', '-F', 'qcow2', path.join(dir, 'snapshots', 'top.qcow2'));
  const m = await makeMachine(name, dir, [{ id: 'disk0', file: 'snapshots/top.qcow2', format: 'qcow2', bus: 'virtio', readOnly: false }]);
  fs.writeFileSync(
    path.join(dir, 'snapshots.json'),
    JSON.stringify({
      version: 1,
      currentId: 's1',
      snapshots: [{ id: 's1', name: 'first', disks: [{ id: 'disk0', file: 'disks/disk0.qcow2' }], config: m.config }],
    }),
  );
  return { ...m, frozen };
}

describe('cloneMachine', () => {
  it('flattens a backing chain into one independent image, with a new identity and no snapshots', async () => {
    const src = await chainedMachine();
    const record = await library.find('src');
    const r = await cloneMachine(library, record, { name: 'copy', linked: false, snapshot: null, sourceRunning: false }, ctx);
    expect(r.disks).toEqual([{ id: 'disk0', method: 'convert', file: 'disks/disk0.qcow2' }]);
    const chain = await backingChain(path.join(r.dir, 'disks', 'disk0.qcow2'), 'qcow2');
    expect(chain).toHaveLength(1);
    expect(fs.readFileSync(path.join(r.dir, 'disks', 'disk0.qcow2')).includes('base-marker')).toBe(true);
    expect(r.config.uuid).not.toBe(src.uuid);
    expect(r.config.nics[0]?.mac).not.toBe('52:54:00:00:00:01');
    expect(fs.existsSync(path.join(r.dir, 'snapshots.json'))).toBe(false);
    expect((await library.list()).map((m) => m.config?.name).sort()).toEqual(['copy', 'src']);
  });

  it('copies a lone image (reflink first where the filesystem allows, else convert)', async () => {
    const dir = path.join(library.machinesDir, 'lone');
    fs.mkdirSync(path.join(dir, 'disks'), { recursive: true });
    writePattern(path.join(dir, 'disks', 'disk0.qcow2'), 'lone-marker', 0);
    await makeMachine('lone', dir, [{ id: 'disk0', file: 'disks/disk0.qcow2', format: 'qcow2', bus: 'virtio', readOnly: false }]);
    const r = await cloneMachine(
      library,
      await library.find('lone'),
      { name: 'lone2', linked: false, snapshot: null, sourceRunning: false },
      ctx,
    );
    expect(['reflink', 'convert']).toContain(r.disks[0]?.method);
    expect(fs.readFileSync(path.join(r.dir, 'disks', 'disk0.qcow2')).includes('lone-marker')).toBe(true);
  });

  it('makes a linked clone as an overlay naming the frozen image absolutely; the base then has a dependent', async () => {
    const src = await chainedMachine();
    const record = await library.find('src');
    const snapshot = { id: 's1', name: 'first', disks: [{ id: 'disk0', file: src.frozen }], config: src.config, nvram: null };
    const r = await cloneMachine(library, record, { name: 'thin', linked: true, snapshot, sourceRunning: true }, ctx);
    const [top, base] = await backingChain(path.join(r.dir, 'disks', 'disk0.qcow2'), 'qcow2');
    expect(top?.backingFile).toBe(src.frozen);
    expect(base?.file).toBe(src.frozen);
    const users = await dependentMachines(library, src.dir, src.uuid);
    expect(users.map((u) => `${u.name}:${u.use}`)).toEqual(['thin:backing']);
    const media = await listMedia(library);
    expect(
      media
        .find((m) => m.file === src.frozen)
        ?.users.map((u) => `${u.name}:${u.use}`)
        .sort(),
    ).toEqual(['src:backing', 'src:snapshot', 'thin:backing']);
  });

  it('refuses a running source without a snapshot, and a taken name, leaving nothing', async () => {
    await chainedMachine();
    const record = await library.find('src');
    await expect(
      cloneMachine(library, record, { name: 'x', linked: false, snapshot: null, sourceRunning: true }, ctx),
    ).rejects.toMatchObject({
      code: 'INVALID_STATE',
    });
    await expect(
      cloneMachine(library, record, { name: 'src', linked: false, snapshot: null, sourceRunning: false }, ctx),
    ).rejects.toMatchObject({
      code: 'ALREADY_EXISTS',
    });
    expect(fs.readdirSync(library.machinesDir)).toEqual(['src']);
  });

  it('removes its staging folder when cancelled', async () => {
    await chainedMachine();
    const controller = new AbortController();
    controller.abort();
    await expect(
      cloneMachine(
        library,
        await library.find('src'),
        { name: 'c', linked: false, snapshot: null, sourceRunning: false },
        { ...ctx, signal: controller.signal },
      ),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(fs.readdirSync(library.machinesDir)).toEqual(['src']);
  });
});

describe('a base with linked clones', () => {
  it('keeps its folder when renamed, so its clones still find their backing files', async () => {
    const src = await chainedMachine();
    const snapshot = { id: 's1', name: 'first', disks: [{ id: 'disk0', file: src.frozen }], config: src.config, nvram: null };
    const clone = await cloneMachine(
      library,
      await library.find('src'),
      { name: 'thin', linked: true, snapshot, sourceRunning: false },
      ctx,
    );
    const r = await modifyMachine(library, {} as HostCapabilities, await library.find('src'), { name: 'renamed' }, false);
    expect(r.config.name).toBe('renamed');
    expect(r.dir).toBe(src.dir);
    expect((await backingChain(path.join(clone.dir, 'disks', 'disk0.qcow2'), 'qcow2'))[1]?.file).toBe(src.frozen);
    // Without clones, a renamed machine's folder follows its name.
    const alone = await cloneMachine(
      library,
      await library.find('thin'),
      { name: 'solo', linked: false, snapshot: null, sourceRunning: false },
      ctx,
    );
    const moved = await modifyMachine(library, {} as HostCapabilities, await library.find('solo'), { name: 'solo2' }, false);
    expect(moved.dir).toBe(path.join(library.machinesDir, 'solo2'));
    expect(fs.existsSync(alone.dir)).toBe(false);
  });
});

describe('staging folders', () => {
  it('sweeps folders whose owner died, never live ones or folders without an owner', async () => {
    const parent = path.join(root, 'p');
    fs.mkdirSync(parent);
    const mine = await makeStaging(parent);
    const dead = await makeStaging(parent);
    const child = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => child.on('exit', r));
    fs.writeFileSync(path.join(dead, OWNER_FILE), JSON.stringify({ pid: child.pid, start: '1' }));
    const foreign = path.join(parent, '.staging-foreign');
    fs.mkdirSync(foreign);
    expect(await sweepStaging(parent)).toEqual([dead]);
    expect(fs.existsSync(mine)).toBe(true);
    expect(fs.existsSync(foreign)).toBe(true);
  });
});

describe('moveMachine', () => {
  it('moves with hard links on one filesystem; absolute backing names inside the folder become relative', async () => {
    const src = await chainedMachine();
    // An absolute backing name inside the folder (as older tools write them) must survive the move.
    qemuImg('rebase', '-u', '-f', 'qcow2', '-b', src.frozen, '-F', 'qcow2', path.join(src.dir, 'snapshots', 'top.qcow2'));
    const dest = path.join(root, 'dest');
    fs.mkdirSync(dest);
    const r = await moveMachine(library, await library.find('src'), dest, false, ctx);
    expect(r).toMatchObject({ dir: path.join(dest, 'src'), method: 'link' });
    expect(fs.existsSync(src.dir)).toBe(false);
    expect((await library.find('src')).dir).toBe(path.join(dest, 'src'));
    const chain = await backingChain(path.join(dest, 'src', 'snapshots', 'top.qcow2'), 'qcow2');
    expect(chain[0]?.backingFile).toBe('../disks/disk0.qcow2');
    expect(chain[1]?.file).toBe(path.join(dest, 'src', 'disks', 'disk0.qcow2'));
    expect(fs.readdirSync(dest)).toEqual(['src']);
  });

  it('refuses its own folder, an existing target, and a base with linked clones', async () => {
    const src = await chainedMachine();
    const record = await library.find('src');
    await expect(moveMachine(library, record, src.dir, false, ctx)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(moveMachine(library, record, path.join(src.dir, 'disks'), false, ctx)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(moveMachine(library, record, library.machinesDir, false, ctx)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const snapshot = { id: 's1', name: 'first', disks: [{ id: 'disk0', file: src.frozen }], config: src.config, nvram: null };
    await cloneMachine(library, record, { name: 'thin', linked: true, snapshot, sourceRunning: false }, ctx);
    const dest = path.join(root, 'dest');
    fs.mkdirSync(dest);
    await expect(moveMachine(library, record, dest, false, ctx)).rejects.toMatchObject({
      code: 'INVALID_STATE',
      message: expect.stringContaining('"thin"') as string,
    });
    expect(fs.readdirSync(dest)).toEqual([]);
    expect((await library.find('src')).dir).toBe(src.dir);
  });
  it('refuses folders that are not meant for machines: /, system and kernel folders, another machine', async () => {
    const src = await chainedMachine();
    await chainedMachine('other');
    const record = await library.find('src');
    const other = await library.find('other');
    for (const [target, why] of [
      ['/', 'root of the filesystem'],
      ['/dev', 'system folder (/dev)'],
      ['/dev/shm', 'system folder (/dev)'],
      ['/proc/self', 'system folder (/proc)'],
      ['/sys/kernel', 'system folder (/sys)'],
      ['/etc', 'system folder (/etc)'],
      [path.join(other.dir, 'disks'), 'inside the folder of other'],
    ] as const) {
      await expect(moveMachine(library, record, target, false, ctx)).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        message: expect.stringContaining(why) as string,
      });
    }
    expect((await library.find('src')).dir).toBe(src.dir);
    expect(fs.existsSync('/src') || fs.existsSync('/dev/src')).toBe(false);
  });
});
