/**
 * Work folders of long operations (an import's staging folder, an export's scratch folder) carry
 * an owner file with the pid and start time of the process that made them. A process killed
 * mid-way cannot clean up after itself; the next operation removes folders whose owner is dead.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { isProcessAlive, processStartTime } from '../fs/lock-file.js';

export const OWNER_FILE = '.vmdesk-owner';

export async function claimFolder(dir: string): Promise<void> {
  await fs.writeFile(path.join(dir, OWNER_FILE), JSON.stringify({ pid: process.pid, start: processStartTime(process.pid) ?? '' }));
}

export async function releaseFolder(dir: string): Promise<void> {
  await fs.rm(path.join(dir, OWNER_FILE), { force: true });
}

/**
 * A work folder named `prefix<pid>.<start>-XXXXXX`: its owner is known from its name alone, so a
 * process killed between making it and writing its owner file still leaves recognisable debris.
 */
export async function makeClaimedFolder(parent: string, prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(parent, `${prefix}${process.pid}.${processStartTime(process.pid) ?? ''}-`));
  await claimFolder(dir);
  return dir;
}

async function ownerDead(dir: string, nameRest: string): Promise<boolean> {
  let owner: { pid?: unknown; start?: unknown };
  try {
    owner = JSON.parse(await fs.readFile(path.join(dir, OWNER_FILE), 'utf8')) as { pid?: unknown; start?: unknown };
  } catch {
    const named = /^(\d+)\.(\d*)-/.exec(nameRest);
    if (!named) return false;
    owner = { pid: Number(named[1]), start: named[2] };
  }
  if (typeof owner.pid !== 'number') return false;
  return !isProcessAlive(owner.pid) || processStartTime(owner.pid) !== (typeof owner.start === 'string' ? owner.start : '');
}

/** Remove folders named `prefix*` in `parent` left by a dead process; returns their names. */
export async function sweepStale(parent: string, prefix: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await fs.readdir(parent).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    const dir = path.join(parent, name);
    if (await ownerDead(dir, name.slice(prefix.length))) {
      await fs.rm(dir, { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed;
}
