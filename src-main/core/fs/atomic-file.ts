import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { sweepStaleTemps } from './stale-temps.js';

let tmpCount = 0;

/**
 * Replace `file` atomically: write a temp file beside it, fsync, keep the previous version as
 * `backup`, rename over, fsync the directory. A crash at any point leaves either the old or the new
 * file whole, never a torn one; a failed write (ENOSPC) leaves no temp file behind.
 */
export async function writeFileAtomic(file: string, data: string, backup?: string): Promise<void> {
  const dir = path.dirname(file);
  // Unique per call: two writes of one file in the same millisecond (an agent's quick state changes) must not collide.
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.${++tmpCount}.tmp`);
  try {
    const handle = await fs.open(tmp, 'wx', 0o644);
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (backup) await keepBackup(file, backup);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dir);
  await sweepStaleTemps(file, backup);
}

/**
 * The current `file` becomes `backup`, replaced whole: a hard link (no data written, so it works on a
 * full filesystem and never leaves a torn backup), or where links are not supported a copy renamed
 * into place.
 */
async function keepBackup(file: string, backup: string): Promise<void> {
  const tmp = `${backup}.${process.pid}.${++tmpCount}.tmp`;
  try {
    await fs.link(file, tmp).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOSPC' || err.code === 'EDQUOT') throw err;
      await fs.copyFile(file, tmp);
    });
    await fs.rename(tmp, backup);
    // rename() does nothing when both names are links to one file (a writer killed between its two
    // renames leaves the file and its backup so): the temp link must still go.
    await fs.rm(tmp, { force: true });
  } catch (err) {
    await fs.rm(tmp, { force: true });
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** fsync one file: its data and size reach the disk, whoever wrote them (a child process included). */
export async function syncFile(file: string): Promise<void> {
  const handle = await fs.open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync a folder, opened the same way: the names in it (a rename, a new file) reach the disk. */
export const syncDir: (dir: string) => Promise<void> = syncFile;

/**
 * fsync every file and folder under `root`, the folders after what they hold and `root` last: a
 * folder built in staging is durable, names included, before it is renamed into place and
 * registered. Links and sockets hold no data of their own; their folder's fsync keeps their names.
 */
export async function syncTree(root: string): Promise<void> {
  for (const entry of await fs.readdir(root, { withFileTypes: true })) {
    const child = path.join(root, entry.name);
    if (entry.isDirectory()) await syncTree(child);
    else if (entry.isFile()) await syncFile(child);
  }
  await syncDir(root);
}

export async function writeJsonAtomic(file: string, value: unknown, backup?: string): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', backup);
}

/**
 * Small JSON files (configs of a few KiB) are read synchronously: for hundreds of machines one
 * readFileSync each costs far less than the open/stat/read/close round trips of the promise API.
 */
export function readJson(file: string): Promise<unknown> {
  try {
    return Promise.resolve(JSON.parse(readFileSync(file, 'utf8')) as unknown);
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
