/** Where a machine's backup chain lives: the backup folder it was given, remembered in the machine folder. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import type { MachineConfig } from '../../api/machine-config.js';
import { readJson, writeJsonAtomic } from '../fs/atomic-file.js';
import type { Library, MachineRecord } from '../library/library.js';
import type { VmRuntime } from '../vm/vm-runtime.js';
import { BACKUP_TARGET_FILE } from '../paths.js';
import { MANIFEST_FILE, chainFolderName } from './manifest.js';

export type Machine = MachineRecord & { config: MachineConfig };

/** What backups need of the core (never the core itself). */
export interface BackupServices {
  library: Library;
  runtime: Pick<VmRuntime, 'status' | 'isActive' | 'isRunning' | 'connect'>;
}

export function resolveChainDir(target: string, config: MachineConfig): string {
  return path.join(target, chainFolderName(config.name, config.uuid));
}

async function rememberedTarget(machineDir: string): Promise<string | null> {
  const raw = (await readJson(path.join(machineDir, BACKUP_TARGET_FILE)).catch(() => null)) as { target?: unknown } | null;
  return typeof raw?.target === 'string' && path.isAbsolute(raw.target) ? raw.target : null;
}

export async function rememberTarget(machineDir: string, target: string): Promise<void> {
  await writeJsonAtomic(path.join(machineDir, BACKUP_TARGET_FILE), { target });
}

/**
 * The backup folder: given, or the machine's last one. It must exist: a USB disk or a NAS that is not
 * mounted must not turn into a folder of the same name on the host's own disk.
 */
export async function requireTargetDir(machine: Machine, to: string | undefined): Promise<string> {
  const target = to ?? (await rememberedTarget(machine.dir));
  if (!target)
    throw new VmdeskError(
      'INVALID_INPUT',
      `${machine.config.name} has no backup folder yet: name one (vmdesk backup ${machine.config.name} --to DIR)`,
    );
  const stat = await fs.stat(target).catch(() => null);
  if (!stat?.isDirectory()) throw new VmdeskError('NOT_FOUND', `The backup folder ${target} does not exist (is the disk mounted?)`);
  return path.resolve(target);
}

/**
 * The chain folder to read: `from` is a chain folder itself (it has a manifest) or a backup folder
 * holding the machine's chain; without it, the machine's last backup folder.
 */
export async function locateChain(machine: Machine | null, name: string, from: string | undefined): Promise<string> {
  if (from !== undefined) {
    if (
      await fs.stat(path.join(from, MANIFEST_FILE)).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      return path.resolve(from);
    if (machine) return resolveChainDir(from, machine.config);
    const entries = await fs.readdir(from).catch(() => [] as string[]);
    const prefix = `${chainFolderName(name, '00000000').slice(0, -8)}`;
    const found = entries.filter((e) => e.startsWith(prefix) && /^[0-9a-f]{8}$/.test(e.slice(prefix.length)));
    if (found.length !== 1 || !found[0])
      throw new VmdeskError(
        'NOT_FOUND',
        `${from} holds ${found.length === 0 ? 'no' : 'several'} backup chains of "${name}": give the chain's own folder`,
      );
    return path.join(from, found[0]);
  }
  if (!machine) throw new VmdeskError('NOT_FOUND', `No machine named "${name}": give the backup folder (--from DIR)`);
  return resolveChainDir(await requireTargetDir(machine, undefined), machine.config);
}

/** Whether the machine was ever backed up from this library (it remembers a backup folder). */
export async function hasBackupFolder(machine: Machine): Promise<boolean> {
  return (await rememberedTarget(machine.dir)) !== null;
}
