// Durability of what VMDesk makes, seen from the system calls of the real CLI (strace -f -y): a
// power loss cannot be simulated here, but its precondition can be checked. Every file of a new or
// moved machine folder — disks written by `qemu-img convert` (cache=unsafe: it never flushes) or by
// `cp` across filesystems included — is fsynced after its last write, every folder after its last
// change of names, all before the folder is renamed into place; that rename is made durable (its
// parent fsynced) before library.json names the folder. Full clone, import of a disk image, move
// across filesystems (root: a loop mount). Runs alone (*.serial.test.ts): loop mount, strace.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, loopMount, makeSandbox, needsRoot, ok, skipBecause, type Sandbox } from './harness.js';

const STRACE = spawnSync('strace', ['-V']).status === 0;
const SYSCALLS = [
  'write',
  'pwrite64',
  'pwritev',
  'pwritev2',
  'copy_file_range',
  'fallocate',
  'ftruncate',
  'ioctl',
  'fsync',
  'fdatasync',
  'openat',
  'mkdir',
  'link',
  'linkat',
  'symlink',
  'unlink',
  'unlinkat',
  'rename',
  'renameat',
  'renameat2',
];
const WRITES = new Set(['write', 'pwrite64', 'pwritev', 'pwritev2', 'copy_file_range', 'fallocate', 'ftruncate', 'ioctl']);
const SYNCS = new Set(['fsync', 'fdatasync']);

interface Call {
  name: string;
  args: string;
}

/** strace -f output as calls in the order they completed (an interrupted call counts when it resumes). */
function parseTrace(text: string): Call[] {
  const calls: Call[] = [];
  const pending = new Map<string, Call>();
  for (const line of text.split('\n')) {
    const start = /^(\d+)\s+(\w+)\((.*?)(?: <unfinished \.\.\.>|\) += .*)$/.exec(line);
    const resumed = /^(\d+)\s+<\.\.\. (\w+) resumed>(.*)$/.exec(line);
    if (start) {
      const [, pid = '', name = '', args = ''] = start;
      if (line.endsWith('<unfinished ...>')) pending.set(pid, { name, args });
      else calls.push({ name, args });
    } else if (resumed) {
      const call = pending.get(resumed[1] ?? '');
      pending.delete(resumed[1] ?? '');
      if (call) calls.push({ name: call.name, args: call.args + (resumed[3] ?? '') });
    }
  }
  return calls;
}

/** The path of a call's first fd (strace -y prints `3</path>`). */
function fdPath(args: string): string | null {
  return /^\d+<([^>]*)>/.exec(args)?.[1] ?? null;
}

/** Paths named by a call: its fds' and its quoted strings. */
function pathsOf(call: Call): string[] {
  const out = [...call.args.matchAll(/\d+<([^>]*)>/g)].map((m) => m[1] ?? '');
  out.push(...[...call.args.matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? ''));
  return out;
}

/** The files and folders of `root`, relative ('' for root itself). */
function tree(root: string): { files: string[]; dirs: string[] } {
  const files: string[] = [];
  const dirs = [''];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = path.join(rel, e.name);
      if (e.isDirectory()) {
        dirs.push(child);
        walk(child);
      } else if (e.isFile()) files.push(child);
    }
  };
  walk('');
  return { files, dirs };
}

/**
 * Every way `finalDir` was not made durable before library.json named it; [] when it was. The folder
 * was built under another name (the rename's source), found from the trace.
 */
function durabilityGaps(calls: Call[], finalDir: string, libraryFile: string): string[] {
  const isRename = (c: Call): boolean => c.name.startsWith('rename');
  const switchAt = calls.findIndex((c) => isRename(c) && pathsOf(c)[1] === finalDir);
  if (switchAt < 0) return [`no rename into ${finalDir}`];
  const staging = pathsOf(calls[switchAt] as Call)[0] ?? '';
  const registerAt = calls.findIndex((c, i) => i > switchAt && isRename(c) && pathsOf(c)[1] === libraryFile);
  if (registerAt < 0) return [`library.json not rewritten after the rename into ${finalDir}`];
  const gaps: string[] = [];
  const lastIndex = (from: number, to: number, pred: (c: Call) => boolean): number => {
    for (let i = to - 1; i >= from; i--) if (pred(calls[i] as Call)) return i;
    return -1;
  };
  const { files, dirs } = tree(finalDir);
  /** Synced after its last write, under `name` in [from, to). */
  const synced = (name: string, from: number, to: number): 'never' | 'after' | 'ok' => {
    const lastWrite = lastIndex(from, to, (c) => WRITES.has(c.name) && fdPath(c.args) === name);
    const lastSync = lastIndex(from, to, (c) => SYNCS.has(c.name) && fdPath(c.args) === name);
    return lastSync < 0 ? 'never' : lastSync < lastWrite ? 'after' : 'ok';
  };
  for (const rel of files) {
    const p = path.join(staging, rel);
    // A file written atomically was synced under its temp name, then renamed to its own.
    const renamedAt = lastIndex(0, switchAt, (c) => isRename(c) && pathsOf(c)[1] === p);
    const before = renamedAt < 0 ? 'never' : synced(pathsOf(calls[renamedAt] as Call)[0] ?? '', 0, renamedAt);
    const after = synced(p, Math.max(renamedAt, 0), switchAt);
    if (after === 'after' || (after === 'never' && before !== 'ok'))
      gaps.push(`${rel}: ${after === 'after' || before === 'after' ? 'written after its last fsync' : 'never fsynced'}`);
  }
  for (const rel of dirs) {
    const p = rel ? path.join(staging, rel) : staging;
    const changes = (c: Call): boolean =>
      !WRITES.has(c.name) &&
      !SYNCS.has(c.name) &&
      pathsOf(c).some((q) => path.dirname(q) === p && (c.name !== 'openat' || c.args.includes('O_CREAT')));
    const lastChange = lastIndex(0, switchAt, changes);
    const lastSync = lastIndex(0, switchAt, (c) => SYNCS.has(c.name) && fdPath(c.args) === p);
    if (lastSync < 0 || lastSync < lastChange)
      gaps.push(`folder ${rel || '.'}: ${lastSync < 0 ? 'never fsynced' : 'changed after its last fsync'}`);
  }
  const parent = path.dirname(finalDir);
  if (lastIndex(switchAt, registerAt, (c) => SYNCS.has(c.name) && fdPath(c.args) === parent) < 0)
    gaps.push(`the rename into ${parent} not fsynced before library.json names it`);
  return gaps;
}

let sb: Sandbox;
let n = 0;
const mounts: string[] = [];

/** Run the CLI under strace; the completed calls, in order. */
function traced(args: string[]): Call[] {
  const out = path.join(sb.home, `trace-${++n}.txt`);
  const r = spawnSync('strace', ['-f', '-y', '-qq', '-o', out, '-e', `trace=${SYSCALLS.join(',')}`, process.execPath, CLI, ...args], {
    env: sb.env,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.status !== 0) throw new Error(`vmdesk ${args.join(' ')} exited ${String(r.status)}\n${r.stdout}\n${r.stderr}`);
  return parseTrace(fs.readFileSync(out, 'utf8'));
}

async function dirOf(name: string): Promise<string> {
  return (JSON.parse(await ok(sb, ['show', name, '--json'])) as { dir: string }).dir;
}

describe.skipIf(!STRACE)('a machine folder is durable before it is registered (strace of the real CLI)', () => {
  const library = (): string => path.join(sb.home, 'library.json');

  beforeAll(async () => {
    sb = makeSandbox();
    await ok(sb, ['create', 'src', '--demo', '--disk', '256M']);
    // Data in the disk, so that a copy has blocks to lose.
    const disk = path.join(await dirOf('src'), 'disks', 'disk0.qcow2');
    const io = spawnSync('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5a 0 48M', disk], { encoding: 'utf8' });
    if (io.status !== 0) throw new Error(io.stderr);
  });
  afterAll(async () => {
    for (const dir of mounts) spawnSync('umount', ['-l', dir]);
    await sb.cleanup();
  });

  it('full clone: the converted disk and every file and folder fsynced before the rename, the rename before registering', async () => {
    const calls = traced(['clone', 'src', 'full']);
    const dir = await dirOf('full');
    expect(calls.some((c) => c.name.startsWith('pwrite') && fdPath(c.args)?.endsWith('disk0.qcow2'))).toBe(true);
    expect(durabilityGaps(calls, dir, library())).toEqual([]);
  });

  it('import of a disk image (qemu-img convert to qcow2): durable before registering', async () => {
    const image = path.join(sb.home, 'outside.raw');
    const made = spawnSync('qemu-img', ['convert', '-O', 'raw', path.join(await dirOf('src'), 'disks', 'disk0.qcow2'), image]);
    expect(made.status).toBe(0);
    const calls = traced(['import', image, '--name', 'imported']);
    expect(durabilityGaps(calls, await dirOf('imported'), library())).toEqual([]);
  });

  it('move onto another filesystem: every copied file (the disk) fsynced before the library switches', async (ctx) => {
    needsRoot(ctx, 'a second filesystem on a loop device');
    if (spawnSync('mkfs.ext4', ['-V']).error) skipBecause(ctx, 'mkfs.ext4 is not installed (e2fsprogs)');
    const other = loopMount(sb, 'other-fs', 512);
    mounts.push(other);
    // A disk named by an absolute path inside the folder: the move rewrites machine.json in the copy.
    const before = await dirOf('full');
    const config = JSON.parse(fs.readFileSync(path.join(before, 'machine.json'), 'utf8')) as { disks: Array<{ file: string }> };
    for (const disk of config.disks) disk.file = path.join(before, disk.file);
    fs.writeFileSync(path.join(before, 'machine.json'), JSON.stringify(config, null, 2));
    const calls = traced(['move', 'full', other]);
    const dir = await dirOf('full');
    const moved = JSON.parse(fs.readFileSync(path.join(dir, 'machine.json'), 'utf8')) as { disks: Array<{ file: string }> };
    expect(moved.disks.map((d) => d.file)).toEqual(['disks/disk0.qcow2']);
    expect(path.dirname(dir)).toBe(other);
    expect(calls.some((c) => c.name === 'copy_file_range' || (c.name === 'write' && fdPath(c.args)?.endsWith('disk0.qcow2')))).toBe(true);
    expect(durabilityGaps(calls, dir, library())).toEqual([]);
  });
});
