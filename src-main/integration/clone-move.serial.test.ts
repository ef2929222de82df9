// Clones and move through the real CLI on the demo guest: a full clone is independent of its source;
// a linked clone boots while its base's frozen image stays byte for byte the same; a base with linked
// clones cannot be deleted or moved; move (same filesystem, then onto another one) then start; a core
// killed mid-way through a big clone or move leaves the source intact and nothing half-registered;
// bad input (existing name, own folder, existing path, running machine, full disk) is refused cleanly.
// Runs alone (*.serial.test.ts): loop mounts as root, GiB copies and kills timed against them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, eventually, guestSays, makeSandbox, needsRoot, ok, vmdesk, type Sandbox } from './harness.js';

const PROMPT = 'vmdesk-demo# ';
let sb: Sandbox;
const mounts: string[] = [];

/** A small ext4 filesystem on a loop device, removed in afterAll: only for tests that called needsRoot. */
function loopFs(name: string, size: string): string {
  const existing = mounts.find((m) => path.basename(m) === name);
  if (existing) return existing;
  const image = path.join(sb.home, `${name}.ext4`);
  const dir = path.join(sb.home, name);
  fs.mkdirSync(dir);
  for (const [cmd, args] of [
    ['truncate', ['-s', size, image]],
    ['mkfs.ext4', ['-q', '-F', image]],
    ['mount', ['-o', 'loop', image, dir]],
  ] as const) {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  }
  mounts.push(dir);
  return dir;
}

function sha256(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(8 * 1024 * 1024);
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

interface Shown {
  uuid: string;
  dir: string;
  config: { name: string; uuid: string; nics: Array<{ mac: string }>; disks: Array<{ id: string; file: string }> };
}
async function show(name: string): Promise<Shown> {
  return JSON.parse(await ok(sb, ['show', name, '--json'])) as Shown;
}
async function names(): Promise<string[]> {
  return (JSON.parse(await ok(sb, ['list', '--json'])) as Array<{ config: { name: string } }>).map((m) => m.config.name).sort();
}
function diskFile(m: Shown, id = 'disk0'): string {
  const file = m.config.disks.find((d) => d.id === id)?.file ?? '';
  return path.isAbsolute(file) ? file : path.join(m.dir, file);
}

async function guest(name: string, line: string, expectText: string, timeout = 60): Promise<void> {
  await guestSays(sb, name, line, expectText, timeout);
}

async function boot(name: string): Promise<void> {
  await ok(sb, ['start', name]);
  await ok(sb, ['wait', name, '--text', PROMPT, '--timeout', '120']);
}

/** Write a line into the guest's ext2 disk, then power off (data synced first). */
async function writeAndStop(name: string, file: string, expr: string, expectText: string): Promise<void> {
  await guest(name, `mount /dev/vda /mnt && echo ${expr} > /mnt/${file} && cat /mnt/${file} && umount /mnt && sync`, expectText);
  await ok(sb, ['stop', name, '--force']);
}

/** Start the CLI, wait until `grown()` says the copy is under way, then SIGKILL it (the core dies mid-copy). */
async function killMidway(args: string[], grown: () => boolean): Promise<void> {
  const child: ChildProcess = spawn(process.execPath, [CLI, ...args], { env: sb.env, stdio: 'ignore' });
  const exited = new Promise((r) => child.on('exit', r));
  const deadline = Date.now() + 60_000;
  while (!grown()) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`vmdesk ${args.join(' ')} ended before it could be killed`);
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  await exited;
}

/** Bytes of the biggest file under a hidden staging folder of `parent`. */
function stagedBytes(parent: string): number {
  let most = 0;
  for (const entry of fs.existsSync(parent) ? fs.readdirSync(parent) : []) {
    if (!entry.startsWith('.staging-')) continue;
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else most = Math.max(most, fs.statSync(p).blocks * 512);
      }
    };
    try {
      walk(path.join(parent, entry));
    } catch {
      // removed meanwhile
    }
  }
  return most;
}

/** Processes whose command line mentions `text` (a killed core's qemu-img or cp would). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text)) pids.push(Number(pid));
    } catch {
      // gone
    }
  }
  return pids;
}

/** Waits (up to 10 s) for every process mentioning `text` to end; returns those still there. */
function gone(text: string): Promise<number[]> {
  return eventually(
    () => Promise.resolve(processesMentioning(text)),
    (pids) => pids.length === 0,
    10_000,
  );
}

/** A 1 GiB raw image of non-zero data (every cluster must really be copied). */
function patternImage(file: string, mib: number): void {
  const chunk = Buffer.alloc(16 * 1024 * 1024);
  for (let i = 0; i < chunk.length; i += 8) chunk.writeUInt32LE(i ^ 0x5a5a5a5a, i);
  const fd = fs.openSync(file, 'w');
  try {
    for (let i = 0; i < mib / 16; i++) fs.writeSync(fd, chunk);
  } finally {
    fs.closeSync(fd);
  }
}

beforeAll(async () => {
  sb = makeSandbox();
  await ok(sb, ['create', 'base', '--demo']);
});
afterAll(async () => {
  await sb.cleanup().catch(() => undefined);
  for (const dir of mounts.reverse()) spawnSync('umount', ['-l', dir]);
});

describe('full and linked clones of the demo guest', () => {
  it('prepares the base: an ext2 file system on its disk with one file', async () => {
    await boot('base');
    await guest('base', 'mke2fs -q /dev/vda && echo formatted-$((6*7))', 'formatted-42');
    await writeAndStop('base', 'base.txt', 'base-data-$((40+2))', 'base-data-42');
  });

  it('refuses to clone onto an existing name, and makes nothing', async () => {
    await ok(sb, ['create', 'taken', '--network', 'none']);
    const r = await vmdesk(sb, ['clone', 'base', 'taken']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('A machine named "taken" already exists');
    const bad = await vmdesk(sb, ['clone', 'base', '../evil']);
    expect(bad.code).toBe(2);
    expect(await names()).toEqual(['base', 'taken']);
    expect(fs.readdirSync(path.join(sb.home, 'machines')).sort()).toEqual(['base', 'taken']);
  });

  it('makes a full clone independent of its source: new identity, its writes stay in it', async () => {
    const base = await show('base');
    const before = sha256(diskFile(base));
    expect(await ok(sb, ['clone', 'base', 'full'])).toMatch(/Cloned base as full \([0-9a-f-]{36}, full\)/);
    const full = await show('full');
    expect(full.uuid).not.toBe(base.uuid);
    expect(full.config.nics[0]?.mac).not.toBe(base.config.nics[0]?.mac);
    expect(full.dir).toBe(path.join(sb.home, 'machines', 'full'));
    expect(fs.existsSync(path.join(full.dir, 'snapshots.json'))).toBe(false);
    await boot('full');
    await guest('full', 'mount /dev/vda /mnt && cat /mnt/base.txt && umount /mnt', 'base-data-42');
    await writeAndStop('full', 'clone.txt', 'clone-only-$((70+7))', 'clone-only-77');
    expect(sha256(diskFile(base))).toBe(before);
    expect(fs.readFileSync(diskFile(full)).includes('clone-only-77')).toBe(true);
    expect(fs.readFileSync(diskFile(base)).includes('clone-only-77')).toBe(false);
  });

  it('refuses a full clone of a running machine, which has no consistent point to copy', async () => {
    await boot('base');
    const r = await vmdesk(sb, ['clone', 'base', 'hot']);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('base is running');
    expect(await names()).toEqual(['base', 'full', 'taken']);
    await ok(sb, ['stop', 'base', '--force']);
  });

  let frozen = '';
  let frozenSum = '';
  it('makes a linked clone in constant time on a new snapshot of the base; it boots and writes while the base image stays the same', async () => {
    const t0 = Date.now();
    const out = await ok(sb, ['clone', 'base', 'linked', '--linked', '--json']);
    const elapsed = Date.now() - t0;
    const result = JSON.parse(out) as { disks: Array<{ method: string }> };
    expect(result.disks).toEqual([{ id: 'disk0', method: 'overlay', file: 'disks/disk0.qcow2' }]);
    const linked = await show('linked');
    const info = JSON.parse(spawnSync('qemu-img', ['info', '--output=json', '-U', diskFile(linked)], { encoding: 'utf8' }).stdout) as {
      'full-backing-filename': string;
    };
    frozen = info['full-backing-filename'];
    expect(path.isAbsolute(frozen)).toBe(true);
    expect(frozen.startsWith((await show('base')).dir)).toBe(true);
    frozenSum = sha256(frozen);
    expect(fs.statSync(diskFile(linked)).size).toBeLessThan(1024 * 1024);
    expect(elapsed).toBeLessThan(30_000);

    await boot('linked');
    await guest('linked', 'mount /dev/vda /mnt && cat /mnt/base.txt && umount /mnt', 'base-data-42');
    await writeAndStop('linked', 'linked.txt', 'linked-only-$((50+5))', 'linked-only-55');
    expect(sha256(frozen)).toBe(frozenSum);
    expect(fs.readFileSync(diskFile(linked)).includes('linked-only-55')).toBe(true);
    expect(fs.readFileSync(frozen).includes('linked-only-55')).toBe(false);
  });

  it('the base keeps running its own way: it boots, writes, and its clone still reads the old data', async () => {
    await boot('base');
    await writeAndStop('base', 'after.txt', 'base-after-$((30+3))', 'base-after-33');
    expect(sha256(frozen)).toBe(frozenSum);
  });

  it('lists the chain in the media manager with its users', async () => {
    const media = JSON.parse(await ok(sb, ['media', '--json'])) as Array<{
      file: string;
      backingFile: string | null;
      users: Array<{ name: string; use: string }>;
    }>;
    const linked = await show('linked');
    expect(media.find((m) => m.file === diskFile(linked))?.backingFile).toBe(frozen);
    const users = media.find((m) => m.file === frozen)?.users.map((u) => `${u.name}:${u.use}`) ?? [];
    expect(users).toContain('linked:backing');
  });

  it('refuses to delete or move the base while the linked clone rests on it, naming the clone', async () => {
    const del = await vmdesk(sb, ['delete', 'base']);
    expect(del.code).toBe(5);
    expect(del.stderr).toContain('the linked clone "linked" uses its disk images');
    const elsewhere = path.join(sb.home, 'elsewhere');
    fs.mkdirSync(elsewhere, { recursive: true });
    const move = await vmdesk(sb, ['move', 'base', elsewhere]);
    expect(move.code).toBe(5);
    expect(move.stderr).toContain('"linked"');
    const { snapshots } = JSON.parse(fs.readFileSync(path.join((await show('base')).dir, 'snapshots.json'), 'utf8')) as {
      snapshots: Array<{ name: string }>;
    };
    const dropSnapshot = await vmdesk(sb, ['snapshot', 'base', 'delete', snapshots[0]?.name ?? '']);
    expect(dropSnapshot.code).toBe(5);
    expect(dropSnapshot.stderr).toContain('"linked"');
    expect(fs.existsSync(path.join((await show('base')).dir, 'machine.json'))).toBe(true);
    expect(sha256(frozen)).toBe(frozenSum);
  });

  it('makes a full clone from a snapshot while the source runs (frozen images do not change)', async () => {
    const base = await show('base');
    const snapshots = JSON.parse(fs.readFileSync(path.join(base.dir, 'snapshots.json'), 'utf8')) as { snapshots: Array<{ name: string }> };
    const snap = snapshots.snapshots[0]?.name ?? '';
    await boot('base');
    const out = await ok(sb, ['clone', 'base', 'fromsnap', '--snapshot', snap]);
    expect(out).toContain('Cloned base as fromsnap');
    await ok(sb, ['stop', 'base', '--force']);
    const copy = await show('fromsnap');
    // The snapshot predates base's after.txt: the clone has the base data only.
    const data = fs.readFileSync(diskFile(copy));
    expect(data.includes('base-data-42')).toBe(true);
    expect(data.includes('base-after-33')).toBe(false);
    await ok(sb, ['delete', 'fromsnap']);
  });
});

describe('move', () => {
  const ROOT_ONLY = 'a second, small filesystem on a loop device';
  const small = (): string => loopFs('small-fs', '64M');

  it('refuses to move into its own folder, onto an existing path, or while running', async () => {
    const full = await show('full');
    const own = await vmdesk(sb, ['move', 'full', full.dir]);
    expect(own.code).toBe(2);
    expect(own.stderr).toContain('into its own folder');
    fs.mkdirSync(path.join(full.dir, 'sub'));
    expect((await vmdesk(sb, ['move', 'full', path.join(full.dir, 'sub')])).code).toBe(2);
    fs.rmdirSync(path.join(full.dir, 'sub'));
    const occupied = path.join(sb.home, 'occupied');
    fs.mkdirSync(path.join(occupied, 'full'), { recursive: true });
    const onto = await vmdesk(sb, ['move', 'full', occupied]);
    expect(onto.code).toBe(4);
    expect(onto.stderr).toContain('already exists');
    await boot('full');
    const running = await vmdesk(sb, ['move', 'full', path.join(sb.home, 'elsewhere')]);
    expect(running.code).toBe(5);
    await ok(sb, ['stop', 'full', '--force']);
    expect((await show('full')).dir).toBe(full.dir);
  });

  it('moves within the filesystem, then starts from the new place with its data', async () => {
    const target = path.join(sb.home, 'elsewhere');
    fs.mkdirSync(target, { recursive: true });
    const out = JSON.parse(await ok(sb, ['move', 'full', target, '--json'])) as { dir: string; method: string };
    expect(out).toMatchObject({ dir: path.join(target, 'full'), method: 'link' });
    expect(fs.existsSync(path.join(sb.home, 'machines', 'full'))).toBe(false);
    expect((await show('full')).dir).toBe(path.join(target, 'full'));
    await boot('full');
    await guest('full', 'mount /dev/vda /mnt && cat /mnt/clone.txt && umount /mnt', 'clone-only-77');
    await ok(sb, ['stop', 'full', '--force']);
  });

  it('moves onto another filesystem (copy, verify, switch), then starts', async (ctx) => {
    needsRoot(ctx, ROOT_ONLY);
    const before = sha256(diskFile(await show('full')));
    const out = JSON.parse(await ok(sb, ['move', 'full', small(), '--json'])) as { dir: string; method: string };
    expect(out).toMatchObject({ dir: path.join(small(), 'full'), method: 'copy' });
    const moved = await show('full');
    expect(moved.dir).toBe(path.join(small(), 'full'));
    expect(sha256(diskFile(moved))).toBe(before);
    expect(fs.existsSync(path.join(sb.home, 'elsewhere', 'full'))).toBe(false);
    await boot('full');
    await guest('full', 'mount /dev/vda /mnt && cat /mnt/clone.txt && umount /mnt', 'clone-only-77');
    await ok(sb, ['stop', 'full', '--force']);
  });

  it('refuses a move onto a full filesystem with a clear error, and loses nothing', async (ctx) => {
    needsRoot(ctx, ROOT_ONLY);
    const raw = path.join(sb.home, 'bulky.raw');
    patternImage(raw, 96);
    await ok(sb, ['create', 'bulky', '--import-disk', raw, '--network', 'none']);
    fs.rmSync(raw);
    const bulky = await show('bulky');
    const sum = sha256(diskFile(bulky));
    const r = await vmdesk(sb, ['move', 'bulky', small()]);
    expect(r.code).toBe(10);
    expect(r.stderr).toMatch(/Not enough free space to move bulky: it takes .* free/);
    expect((await show('bulky')).dir).toBe(bulky.dir);
    expect(sha256(diskFile(bulky))).toBe(sum);
    expect(fs.readdirSync(small()).filter((e) => e.startsWith('.staging-'))).toEqual([]);
  });

  it('refuses a full clone into a library on a full filesystem, and loses nothing', async (ctx) => {
    needsRoot(ctx, 'a small filesystem on a loop device');
    const home = loopFs('tiny-home', '64M');
    const env = { ...sb.env, VMDESK_HOME: home };
    const raw = path.join(sb.home, 'mid.raw');
    patternImage(raw, 32);
    const created = await vmdesk(sb, ['create', 'mid', '--import-disk', raw, '--network', 'none'], { env });
    expect(created.code).toBe(0);
    const r = await vmdesk(sb, ['clone', 'mid', 'mid2'], { env });
    expect(r.code).toBe(10);
    expect(r.stderr).toContain('Not enough free space for a full clone of mid');
    expect(fs.readdirSync(path.join(home, 'machines'))).toEqual(['mid']);
    const list = JSON.parse((await vmdesk(sb, ['list', '--json'], { env })).stdout) as unknown[];
    expect(list).toHaveLength(1);
  });
});

describe('a core killed mid-way', () => {
  let big: Shown;
  let bigSum = '';
  beforeAll(async () => {
    const raw = path.join(sb.home, 'big.raw');
    patternImage(raw, 1024);
    await ok(sb, ['create', 'big', '--import-disk', raw, '--network', 'none'], { timeoutMs: 300_000 });
    fs.rmSync(raw);
    big = await show('big');
    bigSum = sha256(diskFile(big));
  });

  it('during a full clone leaves the source intact and nothing registered; the next clone cleans up', async () => {
    const machines = path.join(sb.home, 'machines');
    await killMidway(['clone', 'big', 'big2'], () => stagedBytes(machines) > 64 * 1024 * 1024);
    // The tethered qemu-img dies with its core: nothing goes on writing or holding the source.
    expect(await gone(path.join(machines, '.staging-'))).toEqual([]);
    expect(await names()).not.toContain('big2');
    expect(fs.existsSync(path.join(machines, 'big2'))).toBe(false);
    expect(sha256(diskFile(big))).toBe(bigSum);
    expect(spawnSync('qemu-img', ['check', diskFile(big)]).status).toBe(0);
    // The abandoned staging folder goes with the next clone.
    await ok(sb, ['clone', 'taken', 'taken2']);
    expect(fs.readdirSync(machines).filter((e) => e.startsWith('.staging-'))).toEqual([]);
  });

  it('during a move across filesystems leaves the machine registered once, at its old place, intact; a new move then works', async (ctx) => {
    needsRoot(ctx, 'a second filesystem on a loop device');
    const wide = loopFs('wide-fs', '2G');
    await killMidway(['move', 'big', wide], () => stagedBytes(wide) > 64 * 1024 * 1024);
    expect(await gone(path.join(wide, '.staging-'))).toEqual([]);
    const after = await show('big');
    expect(after.dir).toBe(big.dir);
    expect((await names()).filter((n) => n === 'big')).toHaveLength(1);
    expect(sha256(diskFile(after))).toBe(bigSum);
    expect(fs.existsSync(path.join(wide, path.basename(big.dir)))).toBe(false);

    const out = JSON.parse(await ok(sb, ['move', 'big', wide, '--json'], { timeoutMs: 300_000 })) as { dir: string; method: string };
    expect(out.method).toBe('copy');
    expect(fs.readdirSync(wide).filter((e) => e.startsWith('.staging-'))).toEqual([]);
    const moved = await show('big');
    expect(moved.dir).toBe(path.join(wide, 'big'));
    expect(sha256(diskFile(moved))).toBe(bigSum);
    expect(fs.existsSync(big.dir)).toBe(false);
  });
});
