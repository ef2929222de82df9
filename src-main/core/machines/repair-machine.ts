/**
 * Bringing back a broken machine (a corrupt, empty or missing machine.json) from machine.json.bak.
 * The broken file is never overwritten: it is kept beside, renamed with the time of the repair.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import type { MachineConfig } from '../../api/machine-config.js';
import { writeFileAtomic } from '../fs/atomic-file.js';
import { withLock } from '../fs/lock-file.js';
import { brokenMessage, loadMachineConfig, machineLockFile, type Library } from '../library/library.js';
import { MACHINE_CONFIG } from '../paths.js';

export interface RepairResult {
  config: MachineConfig;
  /** Where the broken machine.json was kept, or null when there was none. */
  brokenFile: string | null;
}

export async function repairFromBackup(library: Library, nameOrUuid: string): Promise<RepairResult> {
  const record = library.match(await library.list(), nameOrUuid);
  if (!record) throw new VmdeskError('NOT_FOUND', `No machine named "${nameOrUuid}"`);
  if (record.config) throw new VmdeskError('INVALID_STATE', `${record.config.name} is not broken: there is nothing to repair`);
  const broken = record.broken;
  if (!broken?.backup) throw new VmdeskError('NOT_FOUND', broken ? brokenMessage(broken) : `${nameOrUuid} has no backup`);
  const backup = broken.backup;
  return withLock(machineLockFile(record.dir), `repairing ${broken.name}`, async () => {
    const text = await fs.readFile(backup, 'utf8');
    const file = path.join(record.dir, MACHINE_CONFIG);
    const kept = path.join(record.dir, `${MACHINE_CONFIG}.broken-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    const brokenFile = await fs.rename(file, kept).then(
      () => kept,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      },
    );
    await writeFileAtomic(file, text);
    const config = await loadMachineConfig(record.dir);
    if (config.uuid !== record.uuid) throw new VmdeskError('INTERNAL', `The backup of ${broken.name} names another machine`);
    return { config, brokenFile };
  });
}
