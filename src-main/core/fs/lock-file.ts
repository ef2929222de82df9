import fs from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';

interface LockOwner {
  pid: number;
  /** Process start time from /proc, so a recycled pid is not mistaken for the owner. */
  start: string;
  purpose: string;
}

export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime) comes after the command name, which may itself contain spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Alive and not a zombie (a killed process whose parent has not reaped it yet still has a pid). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function ownerAlive(owner: LockOwner): boolean {
  return isProcessAlive(owner.pid) && processStartTime(owner.pid) === owner.start;
}

/** The live process holding the lock file (not a recycled pid), or null: what a detached helper's pid file says. */
export function lockHolderPid(file: string): number | null {
  try {
    const owner = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown; start?: unknown };
    if (typeof owner.pid !== 'number') return null;
    return ownerAlive({ pid: owner.pid, start: typeof owner.start === 'string' ? owner.start : '', purpose: '' }) ? owner.pid : null;
  } catch {
    return null;
  }
}

export interface LockHandle {
  release(): Promise<void>;
}

/**
 * An exclusive lock held by this process, as a file created with O_EXCL. A lock left by a dead
 * process is taken over. Waits up to `timeoutMs` for a live owner to let go, then fails with LOCKED.
 */
export async function acquireLock(file: string, purpose: string, timeoutMs = 10_000): Promise<LockHandle> {
  const me: LockOwner = { pid: process.pid, start: processStartTime(process.pid) ?? '', purpose };
  const deadline = Date.now() + timeoutMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    try {
      await writeOwner(file, me);
      let released = false;
      return {
        release: async () => {
          if (released) return;
          released = true;
          await fs.rm(file, { force: true });
        },
      };
    } catch (err) {
      // The folder went away while we waited: the machine was deleted or moved by another process.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new VmdeskError('INVALID_STATE', `${path.dirname(file)} is gone: another VMDesk process deleted or moved it`);
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = await readOwner(file);
    if (owner === null || !ownerAlive(owner)) {
      await breakStaleLock(file, owner);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new VmdeskError('LOCKED', `Busy: another VMDesk process (pid ${owner.pid}) is ${owner.purpose}`, {
        pid: owner.pid,
        purpose: owner.purpose,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/**
 * Move the stale file aside atomically, then check that what was moved is really the stale lock:
 * if another process took the lock in between, put its lock back (link fails if the name is taken).
 */
async function breakStaleLock(file: string, stale: LockOwner | null): Promise<void> {
  const aside = `${file}.${process.pid}.stale`;
  try {
    await fs.rename(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = await readOwner(aside);
  const same = stale === null ? moved === null || !ownerAlive(moved) : moved?.pid === stale.pid && moved.start === stale.start;
  if (!same) await fs.link(aside, file).catch(() => undefined);
  await fs.rm(aside, { force: true });
}

/**
 * Create the lock file (O_EXCL) and write its owner. A file made but not written (ENOSPC on a full
 * filesystem) is removed: left empty, it would look like a lock being written, then like a stale one.
 */
async function writeOwner(file: string, owner: LockOwner): Promise<void> {
  const handle = await fs.open(file, 'wx');
  try {
    await handle.writeFile(JSON.stringify(owner));
    await handle.close();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fs.rm(file, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC')
      throw new VmdeskError('IO', `No space left on device: cannot write the lock ${file}. Free space on that filesystem, then try again.`);
    throw err;
  }
}

async function readOwner(file: string): Promise<LockOwner | null> {
  try {
    const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid !== 'number') return null;
    return { pid: parsed.pid, start: String(parsed.start ?? ''), purpose: String(parsed.purpose ?? 'working') };
  } catch {
    // Being written right now, or garbage: treat a file younger than a second as alive.
    const stat = await fs.stat(file).catch(() => null);
    if (stat && Date.now() - stat.mtimeMs < 1000)
      return { pid: process.pid, start: processStartTime(process.pid) ?? '', purpose: 'working' };
    return null;
  }
}

export async function withLock<T>(file: string, purpose: string, fn: () => Promise<T>, timeoutMs?: number): Promise<T> {
  const lock = await acquireLock(file, purpose, timeoutMs);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
