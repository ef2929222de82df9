/**
 * Staging folders for create, clone and move: a new machine folder is built under a hidden name
 * holding an owner file (pid + process start time), renamed into place only when complete, and
 * loses its owner file only once registered. A core killed mid-way leaves a folder that still names
 * its dead owner: debris the next operation removes (see library/debris.ts).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeJsonAtomic } from '../fs/atomic-file.js';
import { isProcessAlive, processStartTime } from '../fs/lock-file.js';

export const STAGING_PREFIX = '.staging-';
export const OWNER_FILE = '.vmdesk-owner';

export interface Owner {
  pid: number;
  start: string;
  /** A move's old folder, written before the library switches to the new one: removed after it. */
  movedFrom?: string;
}

export async function makeStaging(parent: string): Promise<string> {
  const dir = path.join(parent, `${STAGING_PREFIX}${randomUUID()}`);
  await fs.mkdir(dir, { recursive: false });
  await writeOwner(dir);
  return dir;
}

/** Atomic, so a kill never leaves a torn owner file (which would make the folder look like a user's). */
export async function writeOwner(dir: string, extra: { movedFrom?: string } = {}): Promise<void> {
  const owner: Owner = { pid: process.pid, start: processStartTime(process.pid) ?? '', ...extra };
  await writeJsonAtomic(path.join(dir, OWNER_FILE), owner);
}

export async function clearOwner(dir: string): Promise<void> {
  await fs.rm(path.join(dir, OWNER_FILE), { force: true });
}

/** The owner of `dir` when it carries an owner file whose process is gone (an abandoned operation). */
export async function abandonedOwner(dir: string): Promise<Owner | null> {
  let owner: Owner;
  try {
    owner = JSON.parse(await fs.readFile(path.join(dir, OWNER_FILE), 'utf8')) as Owner;
  } catch {
    return null;
  }
  if (typeof owner.pid !== 'number') return null;
  return isProcessAlive(owner.pid) && processStartTime(owner.pid) === owner.start ? null : owner;
}

/** True when `dir` carries an owner file whose process is gone: an abandoned clone or move. */
export async function isAbandoned(dir: string): Promise<boolean> {
  return (await abandonedOwner(dir)) !== null;
}

/** Remove abandoned staging folders in `parent`. Folders without an owner file are never touched. */
export async function sweepStaging(parent: string): Promise<string[]> {
  const removed: string[] = [];
  const entries = await fs.readdir(parent).catch(() => [] as string[]);
  for (const entry of entries) {
    if (!entry.startsWith(STAGING_PREFIX)) continue;
    const dir = path.join(parent, entry);
    if (await isAbandoned(dir)) {
      await fs.rm(dir, { recursive: true, force: true });
      removed.push(dir);
    }
  }
  return removed;
}

/** Free bytes for an unprivileged writer on the filesystem holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const s = await fs.statfs(dir);
  return s.bavail * s.bsize;
}

export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[u]}`;
}
