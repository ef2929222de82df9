/**
 * What killed operations leave behind, recognised by markers only VMDesk writes, never by guessing:
 *
 * - a `.staging-*` folder of the machines folder whose owner process is dead (create, clone, import);
 * - a `.deleting-*` folder of the machines folder that no entry names (a delete's folder, unregistered);
 * - an unregistered machine folder that still carries its dead owner's file: a create, clone or import
 *   killed between renaming its staging folder into place and registering it;
 * - a registered folder still carrying a dead owner's file that names `movedFrom`: a move killed after
 *   the library switched to the new copy. The old copy goes (if no entry names it and its machine.json
 *   is gone or names the same uuid), then the marker.
 *
 * A folder with a machine.json and no owner file is never touched: it may be a user's machine to Add.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { STAGING_PREFIX, abandonedOwner, clearOwner } from '../clone/staging.js';
import { DELETING_PREFIX, MACHINE_CONFIG } from '../paths.js';
import type { Library } from './library.js';

/** Sweep the library's debris; returns the folders removed. Cheap: one readdir and a stat per machine. */
export async function sweepDebris(library: Library): Promise<string[]> {
  // An unreadable library names nothing for sure: then nothing is swept.
  const entries = await library.entries().catch(() => null);
  if (!entries) return [];
  const registered = new Set(entries.map((e) => path.resolve(e.dir)));
  const removed: string[] = [];
  const remove = async (dir: string): Promise<void> => {
    await fs.rm(dir, { recursive: true, force: true });
    removed.push(dir);
  };
  for (const entry of entries) {
    const owner = await abandonedOwner(entry.dir);
    if (!owner) continue;
    const old = owner.movedFrom ? path.resolve(owner.movedFrom) : null;
    if (old && !registered.has(old) && (await holdsNoOtherMachine(old, entry.uuid))) await remove(old);
    await clearOwner(entry.dir);
  }
  for (const name of await fs.readdir(library.machinesDir).catch(() => [] as string[])) {
    const dir = path.join(library.machinesDir, name);
    if (registered.has(dir)) continue;
    const debris =
      name.startsWith(DELETING_PREFIX) || ((name.startsWith(STAGING_PREFIX) || !name.startsWith('.')) && (await abandonedOwner(dir)));
    if (debris) await remove(dir);
  }
  return removed;
}

/** A moved machine's old folder: its machine.json names the same machine, or is already gone. */
async function holdsNoOtherMachine(dir: string, uuid: string): Promise<boolean> {
  try {
    const config = JSON.parse(await fs.readFile(path.join(dir, MACHINE_CONFIG), 'utf8')) as { uuid?: unknown };
    return config.uuid === uuid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
