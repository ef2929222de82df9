/**
 * A machine's cgroup on the file system: made under VMDesk's root, given a cap (CFS bandwidth) and
 * a weight, the QEMU process moved in, read back, and removed once empty. cgroup v1 (`cpu`
 * hierarchy: cpu.cfs_quota_us, cpu.shares) and v2 (cpu.max, cpu.weight) differ only in the files.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import { isProcessAlive } from '../fs/lock-file.js';

/** CFS bandwidth period: caps are quotas of this many µs per period (100 ms, the kernel's default). */
export const CFS_PERIOD_US = 100_000;
const UUID_DIR = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A group made this long ago and still empty belongs to no starting machine. */
const STALE_AFTER_MS = 60_000;

export interface CpuLimits {
  /** Percent of one host CPU, or null: no cap. */
  capPercent: number | null;
  /** VMDesk's shares (100 = the default weight). */
  shares: number;
}

/** v1 cpu.shares: 1024 is the kernel's default, our 100; at least 2 (the kernel's minimum). */
export function v1Shares(shares: number): number {
  return Math.max(2, Math.round((shares * 1024) / 100));
}

/** The files and values that express `limits` in a group of cgroup `version`, in the order to write them. */
export function limitFiles(version: 1 | 2, limits: CpuLimits): Array<[file: string, value: string]> {
  const quota = limits.capPercent === null ? null : limits.capPercent * (CFS_PERIOD_US / 100);
  if (version === 1)
    return [
      ['cpu.cfs_period_us', String(CFS_PERIOD_US)],
      ['cpu.cfs_quota_us', quota === null ? '-1' : String(quota)],
      ['cpu.shares', String(v1Shares(limits.shares))],
    ];
  return [
    ['cpu.max', `${quota === null ? 'max' : quota} ${CFS_PERIOD_US}`],
    ['cpu.weight', String(Math.min(10_000, Math.max(1, limits.shares)))],
  ];
}

/** What a group's files say, in VMDesk's terms (v1 shares mapped back, rounded). */
export function parseLimits(version: 1 | 2, files: Record<string, string>): CpuLimits {
  if (version === 1) {
    const period = Number(files['cpu.cfs_period_us'] ?? CFS_PERIOD_US);
    const quota = Number(files['cpu.cfs_quota_us'] ?? -1);
    return {
      capPercent: quota < 0 ? null : Math.round((quota * 100) / period),
      shares: Math.round((Number(files['cpu.shares'] ?? 1024) * 100) / 1024),
    };
  }
  const [quota = 'max', period = String(CFS_PERIOD_US)] = (files['cpu.max'] ?? 'max').trim().split(/\s+/);
  return {
    capPercent: quota === 'max' ? null : Math.round((Number(quota) * 100) / Number(period)),
    shares: Number(files['cpu.weight'] ?? 100),
  };
}

function cgroupError(what: string, err: unknown): VmdeskError {
  const e = err as NodeJS.ErrnoException;
  return new VmdeskError('HOST_UNSUPPORTED', `Cannot ${what}: ${e.code ?? ''} ${e.message}`.replace(/\s+/g, ' ').trim());
}

async function write(file: string, value: string, what: string): Promise<void> {
  await fsp.writeFile(file, value).catch((err: unknown) => {
    throw cgroupError(`${what} (${value} → ${file})`, err);
  });
}

/** v2: a child folder of `dir` gets the cpu files only once `dir` lists cpu in cgroup.subtree_control. */
async function enableCpuBelow(dir: string): Promise<void> {
  const enabled = await fsp.readFile(path.join(dir, 'cgroup.subtree_control'), 'utf8').catch(() => '');
  if (!enabled.split(/\s+/).includes('cpu')) await write(path.join(dir, 'cgroup.subtree_control'), '+cpu', 'enable the cpu controller');
}

/** VMDesk's root folder made (and, on v2, the cpu controller enabled down to the machines' groups). */
export async function ensureRoot(version: 1 | 2, root: string): Promise<void> {
  if (version === 2) await enableCpuBelow(path.dirname(root));
  await fsp.mkdir(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw cgroupError(`make the cgroup ${root}`, err);
  });
  if (version === 2) await enableCpuBelow(root);
}

/**
 * The group `<root>/<uuid>`, made (or kept, left over from a QEMU that crashed) with `limits` set.
 * Empty groups of machines gone without cleaning up are removed on the way.
 */
export async function makeGroup(version: 1 | 2, group: string, limits: CpuLimits): Promise<void> {
  const root = path.dirname(group);
  await ensureRoot(version, root);
  await sweepStaleGroups(root, path.basename(group));
  await fsp.mkdir(group).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw cgroupError(`make the cgroup ${group}`, err);
  });
  await writeLimits(version, group, limits);
}

export async function writeLimits(version: 1 | 2, group: string, limits: CpuLimits): Promise<void> {
  for (const [file, value] of limitFiles(version, limits)) await write(path.join(group, file), value, 'set a CPU limit');
}

export async function readLimits(version: 1 | 2, group: string): Promise<CpuLimits> {
  const files: Record<string, string> = {};
  const names = version === 1 ? ['cpu.cfs_period_us', 'cpu.cfs_quota_us', 'cpu.shares'] : ['cpu.max', 'cpu.weight'];
  for (const name of names)
    files[name] = await fsp.readFile(path.join(group, name), 'utf8').catch((err: unknown) => {
      throw cgroupError(`read ${path.join(group, name)}`, err);
    });
  return parseLimits(version, files);
}

/** The whole process (all its threads, present and future) into `group`. */
export async function moveProcess(group: string, pid: number): Promise<void> {
  await write(path.join(group, 'cgroup.procs'), String(pid), 'move QEMU into its cgroup');
}

/**
 * Remove a group once its processes are gone (an exiting QEMU may linger a moment). A group that still
 * holds a live process is left at once: it is another QEMU's of the same machine (its uuid names the
 * group) — a second library on this kernel, as a migration's destination on the same computer — and
 * the sweep removes it once empty.
 */
export async function removeGroup(group: string, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fsp.rmdir(group);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code === 'EBUSY' && (await holdsLiveProcess(group))) return;
      if (code !== 'EBUSY' || Date.now() > deadline) throw cgroupError(`remove the cgroup ${group}`, err);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * Empty machine groups older than a minute (their QEMU ended without its agent cleaning up). Young
 * ones are left: another machine may be starting and not have moved its QEMU in yet.
 */
export async function sweepStaleGroups(root: string, keep: string): Promise<void> {
  const names = await fsp.readdir(root).catch(() => [] as string[]);
  for (const name of names) {
    if (name === keep || !UUID_DIR.test(name)) continue;
    const dir = path.join(root, name);
    const stat = await fsp.stat(dir).catch(() => null);
    if (!stat?.isDirectory()) continue;
    const procs = await fsp.readFile(path.join(dir, 'cgroup.procs'), 'utf8').catch(() => null);
    if (isStaleGroup(name, Date.now() - stat.mtimeMs, procs)) await fsp.rmdir(dir).catch(() => undefined);
  }
}

/** A folder of VMDesk's root to remove: a machine's group (named by its uuid), old, without processes. */
export function isStaleGroup(name: string, ageMs: number, procs: string | null): boolean {
  return UUID_DIR.test(name) && ageMs >= STALE_AFTER_MS && procs !== null && procs.trim() === '';
}

/** The pids in `group` (its own processes only, not those of groups below it); none if unreadable. */
async function groupPids(group: string): Promise<number[]> {
  const procs = await fsp.readFile(path.join(group, 'cgroup.procs'), 'utf8').catch(() => '');
  return procs
    .split('\n')
    .filter((line) => /^\d+$/.test(line))
    .map(Number);
}

/** Whether a process in the group is alive (an exited one, reaped or a zombie, is not). */
export async function holdsLiveProcess(group: string): Promise<boolean> {
  return (await groupPids(group)).some(isProcessAlive);
}

/** Whether `pid` is in `group` (its own processes only, not those of groups below it). */
export async function groupHolds(group: string, pid: number): Promise<boolean> {
  return (await groupPids(group)).includes(pid);
}
