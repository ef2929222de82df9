/**
 * Temp files of atomic writes (`.<file>.<pid>.….tmp`, `<file>.<pid>.….tmp` for its backup) left by a
 * writer killed before its rename. Each names its writer's pid: those of dead writers are removed by
 * the next write of the same file.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { isProcessAlive } from './lock-file.js';

export async function sweepStaleTemps(file: string, backup?: string): Promise<string[]> {
  const dir = path.dirname(file);
  const stems = [`.${path.basename(file)}.`, ...(backup ? [`${path.basename(backup)}.`] : [])];
  const removed: string[] = [];
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    if (!name.endsWith('.tmp')) continue;
    const stem = stems.find((s) => name.startsWith(s));
    const pid = stem ? Number(/^(\d+)\./.exec(name.slice(stem.length))?.[1]) : NaN;
    if (!Number.isInteger(pid) || pid === process.pid || isProcessAlive(pid)) continue;
    await fs.rm(path.join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}
