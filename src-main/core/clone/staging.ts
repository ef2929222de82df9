/**
 * Staging folders for clone and move: a new machine folder is built under a hidden name holding an
 * owner file (pid + process start time) and renamed into place only when complete. A core killed
 * mid-way leaves its staging folder behind, never registered; the next clone or move in that parent
 * folder removes staging folders whose owner is dead.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { isProcessAlive, processStartTime } from '../fs/lock-file.js';

export const STAGING_PREFIX = '.staging-';
export const OWNER_FILE = '.vmdesk-owner';

interface Owner {
  pid: number;
  start: string;
}

export async function makeStaging(parent: string): Promise<string> {
  const dir = path.join(parent, `${STAGING_PREFIX}${randomUUID()}`);
  await fs.mkdir(dir, { recursive: false });
  await writeOwner(dir);
  return dir;
}

export async function writeOwner(dir: string): Promise<void> {
  const owner: Owner = { pid: process.pid, start: processStartTime(process.pid) ?? '' };
  await fs.writeFile(path.join(dir, OWNER_FILE), JSON.stringify(owner));
}

export async function clearOwner(dir: string): Promise<void> {
  await fs.rm(path.join(dir, OWNER_FILE), { force: true });
}

/** True when `dir` carries an owner file whose process is gone: an abandoned clone or move. */
export async function isAbandoned(dir: string): Promise<boolean> {
  let owner: Owner;
  try {
    owner = JSON.parse(await fs.readFile(path.join(dir, OWNER_FILE), 'utf8')) as Owner;
  } catch {
    return false;
  }
  return !(isProcessAlive(owner.pid) && processStartTime(owner.pid) === owner.start);
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
