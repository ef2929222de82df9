/**
 * `vmdesk encrypt NAME`: a stopped machine's plain disks copied into encrypted qcow2 images
 * (`qemu-img convert` with progress), then switched over in one atomic write of machine.json.
 * Until that write the machine uses its old disks (a kill leaves only unused `-encrypted` copies,
 * replaced by the next try); after it, the new ones, and the plain images are deleted.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import type { DiskConfig, MachineConfig } from '../../api/machine-config.js';
import { newPassphraseSchema } from '../../api/machine-config.js';
import { parseInput } from '../../api/validation.js';
import type { Core } from '../core.js';
import { withLock } from '../fs/lock-file.js';
import { isInside } from '../fs/path-inside.js';
import { machineLockFile, saveMachineConfig } from '../library/library.js';
import { resolveMachinePath } from '../qemu/qemu-args.js';
import { hasSavedState, loadSnapshots } from '../snapshots/store.js';
import type { TaskContext, TaskInfo } from '../tasks/task-manager.js';
import { convertToEncrypted } from './encryption.js';
import { requireNoDependents } from './image-users.js';

export interface EncryptOutcome {
  name: string;
  disks: string[];
}

/** Why the machine cannot be encrypted now, or null. */
function refusal(core: Core, config: MachineConfig, dir: string): string | null {
  const state = core.runtime.status(config.uuid).state;
  if (core.runtime.isActive(state)) return `it is ${state}: shut it down first`;
  if (loadSnapshots(dir).snapshots.length > 0) return 'it has snapshots, whose images would stay unencrypted: delete them first';
  if (hasSavedState(dir)) return 'it has a saved state (its memory, unencrypted): start it and shut it down, or discard the state, first';
  const plain = config.disks.filter((d) => d.encrypted !== true);
  if (plain.length === 0) return 'its disks are already encrypted';
  const outside = plain.find((d) => !isInside(dir, resolveMachinePath(dir, d.file)));
  if (outside) return `disk ${outside.id} is an image kept outside its folder (${outside.file}), which VMDesk does not rewrite`;
  return null;
}

export async function encryptMachineTask(
  core: Core,
  ref: string,
  rawPassphrase: string,
): Promise<{ task: TaskInfo; result: Promise<EncryptOutcome> }> {
  const passphrase = parseInput(newPassphraseSchema, rawPassphrase, 'passphrase');
  const record = await core.library.find(ref);
  const why = refusal(core, record.config, record.dir);
  if (why) throw new VmdeskError('INVALID_STATE', `Cannot encrypt ${record.config.name}: ${why}`);
  return core.tasks.run(
    `Encrypt ${record.config.name}`,
    (ctx) =>
      withLock(machineLockFile(record.dir), `encrypting ${record.config.name}`, async () => {
        const fresh = await core.library.find(record.uuid);
        const again = refusal(core, fresh.config, fresh.dir);
        if (again) throw new VmdeskError('INVALID_STATE', `Cannot encrypt ${fresh.config.name}: ${again}`);
        await requireNoDependents(core.library, { uuid: fresh.uuid, dir: fresh.dir, name: fresh.config.name }, 'encrypt');
        const outcome = await encryptDisks(fresh.config, fresh.dir, passphrase, ctx);
        core.emit('machines');
        return outcome;
      }),
    (r) => r,
  );
}

async function encryptDisks(config: MachineConfig, dir: string, passphrase: string, ctx: TaskContext): Promise<EncryptOutcome> {
  const plain = config.disks.filter((d) => d.encrypted !== true);
  const made = new Map<string, string>();
  try {
    for (const [i, disk] of plain.entries()) {
      const target = encryptedName(disk);
      const abs = resolveMachinePath(dir, target);
      // A copy a killed try left behind (never in the config: it is replaced).
      await fs.rm(abs, { force: true });
      ctx.progress(i / plain.length, `Encrypting ${disk.id}`);
      await convertToEncrypted(resolveMachinePath(dir, disk.file), disk.format, abs, passphrase, {
        signal: ctx.signal,
        onProgress: (f) => ctx.progress((i + f) / plain.length, `Encrypting ${disk.id}`),
      });
      made.set(disk.id, target);
    }
  } catch (err) {
    for (const target of made.values()) await fs.rm(resolveMachinePath(dir, target), { force: true });
    throw err;
  }
  const disks = config.disks.map((d): DiskConfig => {
    const target = made.get(d.id);
    return target === undefined ? d : { ...d, file: target, format: 'qcow2', encrypted: true };
  });
  // The switch: before this write the old disks are the machine's, after it the encrypted ones.
  await saveMachineConfig(dir, { ...config, disks });
  for (const disk of plain) await fs.rm(resolveMachinePath(dir, disk.file), { force: true });
  ctx.progress(1, 'Encrypted');
  return { name: config.name, disks: [...made.keys()] };
}

/** The encrypted copy's name beside the plain image: `disks/disk0-encrypted.qcow2`. */
function encryptedName(disk: DiskConfig): string {
  const ext = path.extname(disk.file);
  return path.join(path.dirname(disk.file), `${path.basename(disk.file, ext)}-encrypted.qcow2`);
}
