// A slow disk (issue 8's disk-full class; dm-delay is not available on this kernel): the library lives
// on a FUSE passthrough (lazyfs.py, beside this file) whose every write call (4 KiB at most) and every
// fsync waits a few milliseconds, some 1 MB/s. Through the real CLI, a full clone of a machine with
// data on its disk completes with the same data; the same clone cancelled with SIGINT (Ctrl-C) part-
// way through the copy exits 11 and leaves nothing: no staging folder, no copy, the source image
// byte for byte the same, and the name free for the next clone.
// Runs alone (*.serial.test.ts): a FUSE mount (root), and timings against a slow filesystem.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { CLI, IS_ROOT, eventually, makeSandbox, needsRoot, ok, skipBecause, vmdesk, type Sandbox } from './harness.js';
import { LAZYFS_MISSING, mountLazyFs, type LazyFs } from './lazyfs.js';

/** Milliseconds each write call and each fsync waits. */
const DELAY_MS = 3;
const missing = LAZYFS_MISSING && `${LAZYFS_MISSING} (a FUSE filesystem that delays writes)`;

let sb: Sandbox;
let slow: LazyFs | undefined;
let mount = '';
/** The guest-visible content put on src's disk: random bytes and a marker, outside the slow mount. */
let expected = '';

const home = (): string => sb.env.VMDESK_HOME ?? '';
const machines = (): string => path.join(home(), 'machines');

function needsSlowDisk(ctx: TestContext): void {
  needsRoot(ctx, 'a FUSE mount with allow_other');
  if (missing) skipBecause(ctx, missing);
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
}

interface Shown {
  dir: string;
  config: { disks: Array<{ file: string }> };
}
async function diskOf(name: string): Promise<string> {
  const m = JSON.parse(await ok(sb, ['show', name, '--json'])) as Shown;
  const file = m.config.disks[0]?.file ?? '';
  return path.isAbsolute(file) ? file : path.join(m.dir, file);
}
async function names(): Promise<string[]> {
  return (JSON.parse(await ok(sb, ['list', '--json'])) as Array<{ config: { name: string } }>).map((m) => m.config.name).sort();
}

/** Bytes written so far into staging folders' disk images (as the slow filesystem reports them). */
function stagedBytes(): number {
  let total = 0;
  for (const entry of fs.readdirSync(machines())) {
    if (!entry.startsWith('.staging-')) continue;
    const disks = path.join(machines(), entry, 'disks');
    for (const f of fs.existsSync(disks) ? fs.readdirSync(disks) : []) {
      try {
        total += fs.statSync(path.join(disks, f)).size;
      } catch {
        // removed meanwhile
      }
    }
  }
  return total;
}

beforeAll(async () => {
  sb = makeSandbox();
  if (!IS_ROOT || missing) return;
  slow = await mountLazyFs(sb.home, 'slow', ['--write-delay-ms', String(DELAY_MS)]);
  mount = slow.mount;
  sb.env.VMDESK_HOME = path.join(mount, 'home');

  // src: a 64 MiB qcow2 with 6 MiB of random data at 1 MiB and a marker at 40 MiB, written by
  // qemu-io onto the slow filesystem; the same content as a raw file outside it, to compare with.
  await ok(sb, ['create', 'src', '--memory', '64', '--network', 'none', '--disk', '64M']);
  const data = path.join(sb.home, 'data.bin');
  const marker = path.join(sb.home, 'marker.bin');
  fs.writeFileSync(data, randomBytes(6 * 1024 * 1024));
  fs.writeFileSync(marker, 'VMDESK-SLOW-DISK-MARKER');
  run('qemu-io', ['-f', 'qcow2', '-c', `write -s ${data} 1M 6M`, '-c', `write -s ${marker} 40M 23`, await diskOf('src')]);
  expected = path.join(sb.home, 'expected.raw');
  run('truncate', ['-s', '64M', expected]);
  const fd = fs.openSync(expected, 'r+');
  fs.writeSync(fd, fs.readFileSync(data), 0, 6 * 1024 * 1024, 1024 * 1024);
  fs.writeSync(fd, fs.readFileSync(marker), 0, 23, 40 * 1024 * 1024);
  fs.closeSync(fd);
}, 60_000);

afterAll(async () => {
  slow?.unmount();
  await sb.cleanup();
});

describe('a library on a slow disk (every write and fsync delayed)', () => {
  it('the harness sees the disk slow (64 writes of 4 KiB and an fsync take at least 65 delays); src holds the data put on it', (ctx) => {
    needsSlowDisk(ctx);
    const file = path.join(mount, 'probe');
    const started = process.hrtime.bigint();
    const fd = fs.openSync(file, 'w');
    for (let i = 0; i < 64; i++) fs.writeSync(fd, Buffer.alloc(4096, i));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    fs.rmSync(file);
    expect(ms).toBeGreaterThanOrEqual(65 * DELAY_MS);
    expect(
      spawnSync('qemu-img', ['compare', '-f', 'qcow2', '-F', 'raw', path.join(machines(), 'src', 'disks', 'disk0.qcow2'), expected]).status,
    ).toBe(0);
  });

  it('a full clone cancelled with SIGINT part-way exits 11 and leaves nothing; the source is unchanged', async (ctx) => {
    needsSlowDisk(ctx);
    const srcDisk = await diskOf('src');
    const before = sha256(srcDisk);
    const full = fs.statSync(srcDisk).size;
    const child = spawn(process.execPath, [CLI, 'clone', 'src', 'copy'], { env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Ctrl-C once the copy is under way: a MiB staged, of some 7.
    const staged = await eventually(
      () => Promise.resolve(stagedBytes()),
      (n) => n > 1024 * 1024,
      30_000,
    );
    child.kill('SIGINT');
    const code = await exited;
    expect(staged, 'bytes staged at the SIGINT').toBeGreaterThan(1024 * 1024);
    expect(staged, 'the copy was not complete at the SIGINT').toBeLessThan(full);
    expect(code, stderr).toBe(11);
    expect(stderr).toMatch(/cancelled/i);
    expect(fs.readdirSync(machines())).toEqual(['src']);
    expect(await names()).toEqual(['src']);
    expect(sha256(srcDisk)).toBe(before);
    expect(spawnSync('qemu-img', ['check', srcDisk]).status).toBe(0);
  });

  it('a full clone completes on the slow disk and the copy holds the same data as the source', async (ctx) => {
    needsSlowDisk(ctx);
    const srcDisk = await diskOf('src');
    const before = sha256(srcDisk);
    const r = await vmdesk(sb, ['clone', 'src', 'copy', '--json'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { disks: Array<{ method: string }> }).disks.map((d) => d.method)).toEqual(['convert']);
    expect(await names()).toEqual(['copy', 'src']);
    expect(fs.readdirSync(machines()).sort()).toEqual(['copy', 'src']);
    const copyDisk = await diskOf('copy');
    expect(copyDisk).not.toBe(srcDisk);
    // Guest-visible content, byte for byte: the copy against the source and against the raw original.
    const compare = spawnSync('qemu-img', ['compare', srcDisk, copyDisk], { encoding: 'utf8' });
    expect(compare.status, compare.stdout + compare.stderr).toBe(0);
    expect(spawnSync('qemu-img', ['compare', '-f', 'qcow2', '-F', 'raw', copyDisk, expected]).status).toBe(0);
    expect(fs.readFileSync(copyDisk).includes('VMDESK-SLOW-DISK-MARKER')).toBe(true);
    expect(sha256(srcDisk)).toBe(before);
  });
});
