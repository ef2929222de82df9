// The exit codes scripts rely on that nothing else provokes: 1 (internal error) from a library whose
// machines folder is a file, which the code does not expect; 8 (QEMU failed) from a disk another
// QEMU holds; 11 (cancelled) from Ctrl-C during a full clone. Each error is one line on stderr,
// never a stack trace, and leaves nothing behind.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, eventually, makeSandbox, ok, vmdesk, type CliResult, type Sandbox } from './harness.js';

let sb: Sandbox;

beforeAll(() => {
  sb = makeSandbox();
});
afterAll(async () => {
  await sb.cleanup();
});

/** One line, `vmdesk: …`, and no stack frame. */
function oneLineError(r: CliResult): string {
  expect(r.stderr).toMatch(/^vmdesk: [^\n]+\n$/);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  return r.stderr;
}

interface Shown {
  dir: string;
  status: { state: string };
  config: { disks: Array<{ file: string }> };
}
async function show(name: string, env = sb.env): Promise<Shown> {
  return JSON.parse((await vmdesk(sb, ['show', name, '--json'], { env })).stdout) as Shown;
}

describe('exit codes', () => {
  it('1: an internal error (a library whose machines folder is a plain file) is one line, no stack', async () => {
    const home = path.join(sb.home, 'odd-library');
    fs.mkdirSync(home);
    fs.writeFileSync(path.join(home, 'machines'), 'not a folder\n');
    const r = await vmdesk(sb, ['create', 'x', '--memory', '64', '--network', 'none'], { env: { ...sb.env, VMDESK_HOME: home } });
    expect(r.code).toBe(1);
    expect(oneLineError(r)).toContain(path.join(home, 'machines'));
    expect(fs.readFileSync(path.join(home, 'machines'), 'utf8')).toBe('not a folder\n');
    expect(fs.readdirSync(home)).toEqual(['machines']);
  });

  it('8: QEMU fails to start (its disk is held by another process): the message carries the end of its log', async () => {
    await ok(sb, ['create', 'held', '--memory', '64', '--network', 'none', '--disk', '64M']);
    const m = await show('held');
    const disk = path.resolve(m.dir, m.config.disks[0]?.file ?? '');
    // Another QEMU program (qemu-io, waiting for commands) holds the image open read-write, and so
    // holds QEMU's image lock on it; qemu-img info (which asks for a shared lock) tells when it does.
    // qemu-img info itself holds the image for a moment: a qemu-io opening it then gives up (its
    // write lock refused), and is started again.
    let holderSaid = '';
    const hold = (): ChildProcess => {
      const p = spawn('qemu-io', ['-f', 'qcow2', disk], { stdio: ['pipe', 'pipe', 'pipe'] });
      p.stdout?.on('data', (d: Buffer) => (holderSaid += d.toString()));
      p.stderr?.on('data', (d: Buffer) => (holderSaid += d.toString()));
      return p;
    };
    let holder = hold();
    try {
      const locked = await eventually(
        () => {
          if (holder.exitCode !== null) holder = hold();
          return Promise.resolve(spawnSync('qemu-img', ['info', disk], { encoding: 'utf8' }).stderr);
        },
        (err) => /lock/i.test(err) && holder.exitCode === null,
        30_000,
      );
      expect(locked, `qemu-io (exit ${holder.exitCode}) said: ${holderSaid}`).toMatch(/lock/i);
      const r = await vmdesk(sb, ['start', 'held']);
      expect(r.code).toBe(8);
      // A first line that says what failed, then the end of QEMU's log with its own words; no stack.
      expect(r.stderr).toMatch(/^vmdesk: QEMU failed to start: [^\n]+\n/);
      expect(r.stderr).toContain('Failed to get "write" lock');
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect((await show('held')).status.state).not.toMatch(/running|starting|paused/);
    } finally {
      holder.kill('SIGKILL');
    }
    // Once the other process is gone the machine starts.
    await new Promise((r) => (holder.exitCode === null && holder.signalCode === null ? holder.once('exit', r) : r(null)));
    await ok(sb, ['start', 'held']);
  });

  it('11: Ctrl-C during a full clone cancels it: nothing registered, nothing left in the library, the source intact', async () => {
    // 384 MiB of non-zero data: the copy takes long enough (a few hundred ms) to be interrupted.
    const raw = path.join(sb.home, 'big.raw');
    const chunk = Buffer.alloc(16 * 1024 * 1024);
    for (let i = 0; i < chunk.length; i += 8) chunk.writeUInt32LE(i ^ 0x5a5a5a5a, i);
    const fd = fs.openSync(raw, 'w');
    for (let i = 0; i < 24; i++) fs.writeSync(fd, chunk);
    fs.closeSync(fd);
    await ok(sb, ['create', 'big', '--import-disk', raw, '--memory', '64', '--network', 'none'], { timeoutMs: 300_000 });
    fs.rmSync(raw);
    const machines = path.join(sb.home, 'machines');
    const source = path.resolve((await show('big')).dir, 'disks', 'disk0.qcow2');
    const before = spawnSync('qemu-img', ['info', '--output=json', source], { encoding: 'utf8' }).stdout;

    const child = spawn(process.execPath, [CLI, 'clone', 'big', 'big2'], { env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const staged = (): number => {
      const dir = fs.readdirSync(machines).find((e) => e.startsWith('.staging-'));
      if (!dir) return 0;
      const disk = path.join(machines, dir, 'disks', 'disk0.qcow2');
      return fs.existsSync(disk) ? fs.statSync(disk).blocks * 512 : 0;
    };
    // The copy itself takes well under a second here (qemu-img at page-cache speed): it is watched
    // every 5 ms, not at eventually()'s default 500 ms, or the clone may end before the signal is sent.
    await eventually(
      () => Promise.resolve(staged()),
      (bytes) => bytes >= 4 * 1024 * 1024 || child.exitCode !== null,
      120_000,
      5,
    );
    expect(child.exitCode, `the clone ended before Ctrl-C could be sent; it said: ${stderr}`).toBeNull();
    child.kill('SIGINT');
    expect(await exited).toBe(11);
    expect(oneLineError({ code: 11, stdout: '', stderr })).toMatch(/cancelled/i);
    expect(fs.readdirSync(machines).sort()).toEqual(['big', 'held']);
    expect((JSON.parse(await ok(sb, ['list', '--json'])) as Array<{ config: { name: string } }>).map((m) => m.config.name).sort()).toEqual([
      'big',
      'held',
    ]);
    expect(spawnSync('qemu-img', ['check', source]).status).toBe(0);
    expect(spawnSync('qemu-img', ['info', '--output=json', source], { encoding: 'utf8' }).stdout).toBe(before);
  });

  it('Ctrl-C with no task under way ends the command at once, as the signal would', async () => {
    // A console on the running machine (stdin a pipe, so Ctrl-C arrives as a signal), signalled once
    // it says it is connected, i.e. once the command is under way.
    const child = spawn(process.execPath, [CLI, 'console', 'held'], { env: sb.env, stdio: ['pipe', 'ignore', 'pipe'] });
    let said = '';
    child.stderr.on('data', (d: Buffer) => (said += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await eventually(
      () => Promise.resolve(said),
      (t) => t.includes('Press Ctrl-] to detach') || child.exitCode !== null,
      30_000,
    );
    expect(child.exitCode).toBeNull();
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    await ok(sb, ['stop', 'held', '--force']);
  });
});
