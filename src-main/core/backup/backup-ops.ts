/**
 * Backups as core operations: input checked at once (a bad folder fails the call, not a task), then
 * a task with progress that can be cancelled (a passphrase too: tried before the task starts). The CLI and
 * the API contract both come through here.
 */
import {
  backupInputSchema,
  backupRestoreInputSchema,
  backupSourceSchema,
  backupVerifyInputSchema,
  type BackupInput,
  type BackupList,
  type BackupOutcome,
  type BackupRestoreInput,
  type BackupRestoreOutcome,
  type BackupSource,
  type BackupVerifyInput,
  type BackupVerifyOutcome,
} from '../../api/backup.js';
import { VmdeskError } from '../../api/errors.js';
import { parseInput } from '../../api/validation.js';
import type { Core } from '../core.js';
import type { TaskInfo } from '../tasks/task-manager.js';
import { hasBackupFolder, locateChain, requireTargetDir, type BackupServices, type Machine } from './chain-dir.js';
import { listChain, readManifest } from './manifest.js';
import { requireBackupKey, restoreBackup } from './restore-backup.js';
import { takeBackup } from './take-backup.js';
import { verifyChain } from './verify-backup.js';
import { requirePassphrase } from '../storage/encryption.js';

type Run<T> = { task: TaskInfo; result: Promise<T> };

function services(core: Core): BackupServices {
  return { library: core.library, runtime: core.runtime };
}

/** The machine named `ref`, or null when there is none (a chain may outlive its machine). */
async function findMachine(core: Core, ref: string): Promise<Machine | null> {
  return core.library.find(ref).catch((err: unknown) => {
    if (err instanceof VmdeskError && err.code === 'NOT_FOUND') return null;
    throw err;
  });
}

export async function backupTask(core: Core, ref: string, raw: BackupInput): Promise<Run<BackupOutcome>> {
  const input = parseInput(backupInputSchema, raw, 'backup settings');
  const machine = await core.library.find(ref);
  await requireTargetDir(machine, input.to);
  // A stopped machine's encrypted disks are opened with the passphrase: tried before the task, so a
  // front end hears at once that it is missing or wrong (the task tries it again, under the lock).
  if (!core.runtime.isRunning(machine.uuid)) await requirePassphrase(machine.config, machine.dir, input.passphrase, 'back it up');
  return core.tasks.run(
    `Back up ${machine.config.name}`,
    async (ctx) => takeBackup(services(core), await core.library.find(machine.uuid), input, ctx),
    (r) => r,
  );
}

/** The machine's chain, or null when it has none yet. */
export async function listBackups(core: Core, ref: string, raw: BackupSource = {}): Promise<BackupList | null> {
  const { from } = parseInput(backupSourceSchema, raw, 'backup folder');
  const machine = await findMachine(core, ref);
  if (machine && from === undefined && !(await hasBackupFolder(machine))) return null;
  const chainDir = await locateChain(machine, ref, from);
  const manifest = await readManifest(chainDir);
  return manifest ? listChain(chainDir, manifest) : null;
}

export async function verifyBackupsTask(core: Core, ref: string, raw: BackupVerifyInput = {}): Promise<Run<BackupVerifyOutcome>> {
  const { from, passphrase } = parseInput(backupVerifyInputSchema, raw, 'backup folder');
  const chainDir = await locateChain(await findMachine(core, ref), ref, from);
  // A wrong passphrase is said at once, not as a problem of every encrypted image.
  if (passphrase !== undefined) await requireBackupKey(chainDir, { point: 'latest', passphrase });
  return core.tasks.run(
    `Verify the backups of ${ref}`,
    (ctx) => verifyChain(chainDir, ctx, passphrase),
    (r) => r,
  );
}

export async function restoreBackupTask(core: Core, ref: string, raw: BackupRestoreInput): Promise<Run<BackupRestoreOutcome>> {
  const input = parseInput(backupRestoreInputSchema, raw, 'restore settings');
  const machine = await findMachine(core, ref);
  const chainDir = await locateChain(machine, ref, input.from);
  await requireBackupKey(chainDir, input);
  return core.tasks.run(
    `Restore ${ref} from its backup`,
    async (ctx) => {
      const result = await restoreBackup(services(core), chainDir, machine, input, ctx);
      core.emit('machines');
      return result;
    },
    (r) => r,
  );
}
