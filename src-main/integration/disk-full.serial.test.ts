// A library on a small filesystem that fills up (ext4 on a loop device the test makes, as root): a
// guest writing to its disk is paused, not failed, and says why; it resumes once space is freed.
// A snapshot, a clone or a config save on the full filesystem fails with a clear error (exit 10)
// and leaves nothing half-made.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  demoBootMiB,
  eventually,
  fillFilesystem as fill,
  guestSays,
  loopMount,
  makeSandbox,
  needsRoot,
  ok,
  vmdesk,
  type Sandbox,
} from './harness.js';

const MiB = 1024 * 1024;
const PROMPT = 'vmdesk-demo# ';
let sb: Sandbox;
let made = 0;
const mounts: string[] = [];

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/**
 * A fresh ext4 of `sizeMiB` holding a library (no blocks reserved for root: it fills for root too),
 * plus room for one demo machine's boot files (copied there: the cache is on another filesystem).
 */
function smallLibrary(sizeMiB: number): { mnt: string; lib: string; env: Sandbox } {
  made += 1;
  const mnt = loopMount(sb, `mnt-${made}`, sizeMiB + demoBootMiB());
  mounts.push(mnt);
  const lib = path.join(mnt, 'library');
  return { mnt, lib, env: { ...sb, env: { ...sb.env, VMDESK_HOME: lib } } };
}

function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

/** Every file under `dir`, relative, sorted: what a failed operation must leave as it found. */
function tree(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => !f.startsWith('logs')).sort();
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

interface Shown {
  uuid: string;
  dir: string;
  status: { state: string; reason?: string; orphaned?: boolean };
}

async function show(env: Sandbox, name: string): Promise<Shown> {
  return JSON.parse(await ok(env, ['show', name, '--json'])) as Shown;
}

beforeAll(() => {
  sb = makeSandbox();
});
afterEach(async () => {
  // Power off what a test left running before its filesystem goes.
  for (const uuid of fs.existsSync(sb.runtime) ? fs.readdirSync(sb.runtime) : []) {
    try {
      process.kill(Number(fs.readFileSync(path.join(sb.runtime, uuid, 'qemu.pid'), 'utf8').trim()), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await new Promise((r) => setTimeout(r, 300));
  for (const mnt of mounts.splice(0)) spawnSync('umount', ['-l', mnt]);
});
afterAll(async () => {
  await sb.cleanup();
});

const ROOT_ONLY = 'a small filesystem of its own: a loop mount';

describe('a library on a full filesystem', () => {
  it('a guest writing to its disk is paused with the reason; freed space and Resume let it finish its write', async (ctx) => {
    needsRoot(ctx, ROOT_ONLY);
    const { mnt, lib, env } = smallLibrary(64);
    await ok(env, ['create', 'w', '--demo']);
    const disk = path.join(lib, 'machines', 'w', 'disks', 'disk0.qcow2');
    await ok(env, ['start', 'w']);
    await ok(env, ['wait', 'w', '--text', PROMPT, '--timeout', '90']);
    // 16 MiB of random data in guest RAM first, with its checksum, so the disk write itself is quick.
    const sum = await guestSays(
      env,
      'w',
      'dd if=/dev/urandom of=/tmp/r bs=1M count=16 2>/dev/null; md5sum /tmp/r',
      /[0-9a-f]{32}(?=\s+\/tmp\/r)/,
      120,
    );
    // 24 MiB of ballast to free later, the rest filled but 4 MiB: the guest's 16 MiB cannot fit.
    const ballast = path.join(mnt, 'ballast');
    run('fallocate', ['-l', `${24 * MiB}`, ballast]);
    fill(mnt, 4 * MiB);
    await ok(env, ['send', 'w', 'dd if=/tmp/r of=/dev/vda bs=1M conv=fsync 2>/dev/null; echo dd-exit-$((0+$?))\\n']);

    const reason = `The disk disk0 ran out of space on the host (${disk}: filesystem full). Free space on that filesystem, then Resume.`;
    const paused = await eventually(
      () => show(env, 'w'),
      (m) => m.status.state === 'paused' && m.status.reason !== undefined,
      120_000,
    );
    expect(paused.status).toMatchObject({ state: 'paused', reason });
    expect(await ok(env, ['show', 'w'])).toContain(`State:       paused (${reason})`);
    const listed = JSON.parse(await ok(env, ['list', '--json'])) as Shown[];
    expect(listed.find((m) => m.uuid === paused.uuid)?.status.reason).toBe(reason);

    // Resume while still full: QEMU retries the write, fails again and pauses again, saying why.
    await ok(env, ['resume', 'w']);
    const again = await eventually(
      () => show(env, 'w'),
      (m) => m.status.state === 'paused' && m.status.reason !== undefined,
      30_000,
    );
    expect(again.status.reason).toBe(reason);

    // A new agent (the old one killed) cannot take the machine's lock on the full filesystem: a clear
    // error, no empty lock file left. Once space is freed it can, and reads the reason back from QEMU
    // (the event went to the agent that died).
    const agentPidFile = path.join(sb.runtime, paused.uuid, 'agent.pid');
    const agentPid = Number(fs.readFileSync(agentPidFile, 'utf8').trim());
    process.kill(agentPid, 'SIGKILL');
    await eventually(
      async () => (await show(env, 'w')).status.orphaned,
      (o) => o === true,
      5_000,
    );
    const screenshot = ['screenshot', 'w', path.join(sb.home, 'adopted.png')];
    const refused = await vmdesk(env, screenshot);
    expect(refused.code, refused.stderr).toBe(10);
    expect(refused.stderr).toContain(`No space left on device: cannot write the lock ${path.join(paused.dir, 'machine.lock')}`);
    expect(fs.existsSync(path.join(paused.dir, 'machine.lock'))).toBe(false);
    expect((await show(env, 'w')).status).toMatchObject({ state: 'paused', reason, orphaned: true });
    fs.rmSync(ballast);
    await ok(env, screenshot);
    expect(Number(fs.readFileSync(agentPidFile, 'utf8').trim())).not.toBe(agentPid);
    const adopted = await eventually(
      () => show(env, 'w'),
      (m) => m.status.reason !== undefined,
      10_000,
    );
    expect(adopted.status).toEqual(expect.objectContaining({ state: 'paused', reason }));
    expect(adopted.status.orphaned).toBeUndefined();

    await ok(env, ['resume', 'w']);
    await ok(env, ['wait', 'w', '--text', 'dd-exit-0', '--timeout', '120']);
    const resumed = await show(env, 'w');
    expect(resumed.status.state).toBe('running');
    expect(resumed.status.reason).toBeUndefined();
    await ok(env, ['stop', 'w', '--force']);
    // Every byte the guest wrote is in the image, and the image is sound.
    const raw = path.join(sb.home, 'written.raw');
    run('qemu-img', ['dd', '-f', 'qcow2', '-O', 'raw', 'bs=1M', 'count=16', `if=${disk}`, `of=${raw}`]);
    expect(createHash('md5').update(fs.readFileSync(raw)).digest('hex')).toBe(sum);
    expect(run('qemu-img', ['check', '-q', disk])).toBe('');
  });

  it('a live snapshot or save-state that fills the filesystem: the guest runs on, nothing half-made is left', async (ctx) => {
    needsRoot(ctx, ROOT_ONLY);
    const { mnt, lib, env } = smallLibrary(48);
    await ok(env, ['create', 's', '--demo']);
    const dir = path.join(lib, 'machines', 's');
    await ok(env, ['start', 's']);
    await ok(env, ['wait', 's', '--text', PROMPT, '--timeout', '90']);
    const before = tree(dir);
    const config = sha256(path.join(dir, 'machine.json'));

    // Room for the lock and a little more, not for an overlay: exit 10, the machine as it was.
    const filler = fill(mnt, 64 * 1024);
    const refused = await vmdesk(env, ['snapshot', 's', 'take', 'full'], { timeoutMs: 180_000 });
    expect(refused.code, refused.stderr).toBe(10);
    expect(refused.stderr).toMatch(/no space left on device/i);
    expect(tree(dir)).toEqual(before);
    expect(sha256(path.join(dir, 'machine.json'))).toBe(config);
    const saved = await vmdesk(env, ['save-state', 's'], { timeoutMs: 180_000 });
    expect(saved.code, saved.stderr).toBe(10);
    expect(saved.stderr).toMatch(/no space left on device/i);
    expect(tree(dir)).toEqual(before);
    expect((await show(env, 's')).status).toMatchObject({ state: 'running' });
    await guestSays(env, 's', 'echo alive-$((40+2))', 'alive-42', 30);

    // Room for the overlays, not for the RAM: the snapshot keeps the disks (a complete disk snapshot)
    // and says the memory did not fit; no partial RAM state is left.
    fs.rmSync(filler);
    fill(mnt, 2 * MiB);
    const diskOnly = await vmdesk(env, ['snapshot', 's', 'take', 'half'], { timeoutMs: 180_000 });
    expect(diskOnly.code, diskOnly.stderr).toBe(0);
    expect(diskOnly.stderr).toMatch(/memory could not be saved \(No space left on device: the machine state did not fit/);
    const snaps = fs.readdirSync(path.join(dir, 'snapshots'));
    expect(snaps.filter((f) => !f.endsWith('.qcow2'))).toEqual([]);
    expect(JSON.parse(await ok(env, ['snapshot', 's', 'list', '--json']))).toMatchObject({ roots: [{ name: 'half', kind: 'disk' }] });
    expect((await show(env, 's')).status).toMatchObject({ state: 'running' });
    await guestSays(env, 's', 'echo alive-$((40+3))', 'alive-43', 30);
  });

  it('a disk snapshot of a stopped machine on a full filesystem fails with exit 10 and leaves no overlay', async (ctx) => {
    needsRoot(ctx, ROOT_ONLY);
    const { mnt, lib, env } = smallLibrary(32);
    await ok(env, ['create', 'd', '--demo']);
    const dir = path.join(lib, 'machines', 'd');
    const before = tree(dir);
    const config = sha256(path.join(dir, 'machine.json'));
    fill(mnt, 64 * 1024);
    const r = await vmdesk(env, ['snapshot', 'd', 'take', 'full']);
    expect(r.code, r.stderr).toBe(10);
    expect(r.stderr).toMatch(/no space/i);
    expect(tree(dir)).toEqual(before);
    expect(sha256(path.join(dir, 'machine.json'))).toBe(config);
    expect(JSON.parse(await ok(env, ['snapshot', 'd', 'list', '--json']))).toMatchObject({ roots: [] });
  });

  it('a clone that fills the filesystem fails with exit 10: no clone folder, nothing registered', async (ctx) => {
    needsRoot(ctx, ROOT_ONLY);
    const { mnt, lib, env } = smallLibrary(40);
    await ok(env, ['create', 'c', '--demo']);
    const library = sha256(path.join(lib, 'library.json'));
    const machines = fs.readdirSync(path.join(lib, 'machines'));
    // Room for part of the copy only: the kernel and initrd of the demo guest are tens of MiB.
    fill(mnt, 5 * MiB);
    const r = await vmdesk(env, ['clone', 'c', 'c2']);
    expect(r.code, r.stderr).toBe(10);
    expect(r.stderr).toMatch(/no space/i);
    expect(fs.readdirSync(path.join(lib, 'machines'))).toEqual(machines);
    expect(fs.readdirSync(lib).filter((f) => f.startsWith('.'))).toEqual([]);
    expect(sha256(path.join(lib, 'library.json'))).toBe(library);
    expect((JSON.parse(await ok(env, ['list', '--json'])) as Shown[]).map((m) => m.dir)).toEqual([path.join(lib, 'machines', 'c')]);
    expect(freeBytes(mnt)).toBeGreaterThanOrEqual(5 * MiB - 64 * 1024);
  });

  it('a config save on a full filesystem fails with exit 10; machine.json and its backup stay whole', async (ctx) => {
    needsRoot(ctx, ROOT_ONLY);
    const { mnt, lib, env } = smallLibrary(32);
    await ok(env, ['create', 'm', '--demo']);
    await ok(env, ['modify', 'm', '--memory', '256']);
    const dir = path.join(lib, 'machines', 'm');
    const before = tree(dir);
    const config = sha256(path.join(dir, 'machine.json'));
    const backup = sha256(path.join(dir, 'machine.json.bak'));
    // Room for the lock file, not for the new config with its 9 KiB of notes.
    fill(mnt, 6 * 1024);
    const r = await vmdesk(env, ['modify', 'm', '--memory', '384', '--notes', 'x'.repeat(9000)]);
    expect(r.code, r.stderr).toBe(10);
    expect(r.stderr).toMatch(/no space/i);
    expect(tree(dir)).toEqual(before);
    expect(sha256(path.join(dir, 'machine.json'))).toBe(config);
    expect(sha256(path.join(dir, 'machine.json.bak'))).toBe(backup);
    expect((await show(env, 'm')).status.state).toBe('stopped');
    expect(JSON.parse(await ok(env, ['show', 'm', '--json']))).toMatchObject({ config: { memoryMiB: 256 } });
  });
});
