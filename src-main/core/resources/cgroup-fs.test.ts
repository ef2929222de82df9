// The files a machine's cgroup gets, checked on a temp folder standing in for the cgroup file system
// (the real v1 hierarchy is exercised by integration/cpu-limits.serial.test.ts); the removal of a
// group another process still holds, on the real hierarchy where it is writable (root).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VmdeskError } from '../../api/errors.js';
import {
  ensureRoot,
  groupHolds,
  holdsLiveProcess,
  isStaleGroup,
  limitFiles,
  makeGroup,
  parseLimits,
  readLimits,
  removeGroup,
  v1Shares,
} from './cgroup-fs.js';

const UUID_A = '11111111-1111-4111-8111-111111111111';
const UUID_B = '22222222-2222-4222-8222-222222222222';
let root = '';
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-fs-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('limit files', () => {
  it('writes a v1 cap as a CFS quota per 100 ms and shares scaled to 1024', () => {
    expect(limitFiles(1, { capPercent: 25, shares: 100 })).toEqual([
      ['cpu.cfs_period_us', '100000'],
      ['cpu.cfs_quota_us', '25000'],
      ['cpu.shares', '1024'],
    ]);
    expect(limitFiles(1, { capPercent: null, shares: 300 })).toContainEqual(['cpu.cfs_quota_us', '-1']);
    expect(v1Shares(300)).toBe(3072);
    expect(v1Shares(1)).toBe(10);
    expect(v1Shares(10_000)).toBe(102_400);
  });

  it('writes v2 cpu.max and cpu.weight', () => {
    expect(limitFiles(2, { capPercent: 150, shares: 300 })).toEqual([
      ['cpu.max', '150000 100000'],
      ['cpu.weight', '300'],
    ]);
    expect(limitFiles(2, { capPercent: null, shares: 1 })).toEqual([
      ['cpu.max', 'max 100000'],
      ['cpu.weight', '1'],
    ]);
  });

  it('reads back what it wrote, in both versions', () => {
    for (const version of [1, 2] as const)
      for (const limits of [
        { capPercent: 25, shares: 100 },
        { capPercent: null, shares: 300 },
        { capPercent: 400, shares: 10_000 },
      ]) {
        const files = Object.fromEntries(limitFiles(version, limits).map(([f, v]) => [f, `${v}\n`]));
        expect(parseLimits(version, files)).toEqual(limits);
      }
  });
});

describe('a machine group on a stand-in tree', () => {
  it('makes the root and the group, writes the limits and reads them back', async () => {
    const group = path.join(root, 'vmdesk', UUID_A);
    await makeGroup(1, group, { capPercent: 50, shares: 200 });
    expect(fs.readFileSync(path.join(group, 'cpu.cfs_quota_us'), 'utf8')).toBe('50000');
    expect(await readLimits(1, group)).toEqual({ capPercent: 50, shares: 200 });
    // Kept when it is already there (a QEMU of this machine crashed).
    await makeGroup(1, group, { capPercent: null, shares: 100 });
    expect(await readLimits(1, group)).toEqual({ capPercent: null, shares: 100 });
  });

  it('enables the cpu controller down to the machines on v2, once', async () => {
    fs.writeFileSync(path.join(root, 'cgroup.subtree_control'), '');
    const slice = path.join(root, 'vmdesk.slice');
    await ensureRoot(2, slice);
    expect(fs.readFileSync(path.join(root, 'cgroup.subtree_control'), 'utf8')).toBe('+cpu');
    expect(fs.readFileSync(path.join(slice, 'cgroup.subtree_control'), 'utf8')).toBe('+cpu');
    fs.writeFileSync(path.join(slice, 'cgroup.subtree_control'), 'cpu memory\n');
    await ensureRoot(2, slice);
    expect(fs.readFileSync(path.join(slice, 'cgroup.subtree_control'), 'utf8')).toBe('cpu memory\n');
  });

  it('says which file it could not write', async () => {
    const err = await makeGroup(1, path.join(root, 'missing', 'deeper', UUID_A), { capPercent: 10, shares: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VmdeskError);
    expect((err as VmdeskError).message).toMatch(/^Cannot make the cgroup .*missing.*ENOENT/);
  });

  it('tells whether a pid is in a group', async () => {
    const group = path.join(root, UUID_A);
    fs.mkdirSync(group);
    fs.writeFileSync(path.join(group, 'cgroup.procs'), '12\n345\n');
    expect(await groupHolds(group, 345)).toBe(true);
    expect(await groupHolds(group, 34)).toBe(false);
    expect(await groupHolds(path.join(root, UUID_B), 345)).toBe(false);
  });

  it('counts only empty machine groups older than a minute as stale', () => {
    expect(isStaleGroup(UUID_A, 5 * 60_000, '')).toBe(true);
    expect(isStaleGroup(UUID_A, 5 * 60_000, '\n')).toBe(true);
    expect(isStaleGroup(UUID_A, 5 * 60_000, '4242\n')).toBe(false);
    expect(isStaleGroup(UUID_A, 10_000, '')).toBe(false);
    expect(isStaleGroup(UUID_A, 5 * 60_000, null)).toBe(false);
    expect(isStaleGroup('user.slice', 5 * 60_000, '')).toBe(false);
  });

  it('removes a group, and is content when it is already gone', async () => {
    const group = path.join(root, UUID_A);
    fs.mkdirSync(group);
    await removeGroup(group);
    expect(fs.existsSync(group)).toBe(false);
    await removeGroup(group);
  });
});

/** The cpu hierarchy's root, when this process may make groups in it (v1's cpu mount, or v2's root). */
function writableCpuRoot(): string | null {
  for (const dir of ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup']) {
    try {
      fs.accessSync(path.join(dir, 'cgroup.procs'), fs.constants.W_OK);
      return dir;
    } catch {
      // not this one
    }
  }
  return null;
}

describe('a machine group on the real hierarchy', () => {
  const cpuRoot = writableCpuRoot();

  it('is left at once while another live process holds it, and removed once that one has gone', async (ctx) => {
    if (!cpuRoot) ctx.skip(true, 'no writable cpu cgroup hierarchy here (root on a cgroup v1 or v2 host is needed)');
    const group = path.join(cpuRoot ?? '', `vmdesk-unit-${process.pid}`);
    fs.mkdirSync(group);
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      fs.writeFileSync(path.join(group, 'cgroup.procs'), String(other.pid));
      expect(await holdsLiveProcess(group)).toBe(true);
      const t0 = Date.now();
      await removeGroup(group);
      // Not the 2 s an exiting QEMU is given: nothing of ours is leaving it.
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(fs.existsSync(group)).toBe(true);
      const gone = new Promise((resolve) => other.once('exit', resolve));
      other.kill('SIGKILL');
      await gone;
      expect(await holdsLiveProcess(group)).toBe(false);
      await removeGroup(group);
      expect(fs.existsSync(group)).toBe(false);
    } finally {
      other.kill('SIGKILL');
      // After a failure above: the group goes once the child has.
      if (fs.existsSync(group)) await removeGroup(group).catch(() => undefined);
    }
  });
});
