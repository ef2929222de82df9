/**
 * Clone and move as core operations: inputs checked at once (a bad name fails the call, not a task),
 * then a task that holds the source machine's lock while it works.
 */
import { VmdeskError } from '../../api/errors.js';
import {
  cloneMachineInputSchema,
  moveTargetSchema,
  type CloneMachineInput,
  type CloneOutcome,
  type MoveOutcome,
} from '../../api/storage.js';
import { parseInput } from '../../api/validation.js';
import type { Core } from '../core.js';
import { withLock } from '../fs/lock-file.js';
import { machineLockFile } from '../library/library.js';
import { findSnapshot, type SnapshotRef } from '../storage/snapshot-files.js';
import { isEncrypted, requirePassphrase } from '../storage/encryption.js';
import type { TaskInfo } from '../tasks/task-manager.js';
import { cloneMachine, requireFreeName, type CloneResult } from './clone-machine.js';
import { moveMachine, type MoveResult } from './move-machine.js';

/** What clone needs of the snapshot code (core.snapshots): taking one for a linked clone made without. */
interface SnapshotTaking {
  snapshots?: { take(ref: string, input: { name: string; passphrase?: string }): { result: Promise<{ id: string }> } };
}

export async function cloneMachineTask(
  core: Core,
  ref: string,
  rawInput: CloneMachineInput,
): Promise<{ task: TaskInfo; result: Promise<CloneResult> }> {
  const input = parseInput(cloneMachineInputSchema, rawInput, 'clone settings');
  const { passphrase } = input;
  const source = await core.library.find(ref);
  await requireFreeName(core.library, input.name);
  if (input.snapshot !== undefined) await findSnapshot(source.dir, source.config.name, input.snapshot);
  // Encrypted disks are copied encrypted, with the passphrase (tried now: a wrong one starts nothing);
  // a running source's QEMU makes a linked clone's overlays with the key it holds.
  const sourceRunning = (): boolean => core.runtime.isRunning(source.uuid);
  const byQemu = input.linked && sourceRunning();
  if (!byQemu) await requirePassphrase(source.config, source.dir, passphrase, 'clone it');
  return core.tasks.run(
    `Clone ${source.config.name} as ${input.name}`,
    async (ctx) => {
      let snapshotRef = input.snapshot;
      if (input.linked && snapshotRef === undefined) {
        // As VirtualBox does: a linked clone of the current state rests on a new snapshot of it.
        ctx.progress(null, `Taking a snapshot of ${source.config.name}`);
        const name = `Base of ${input.name} ${new Date().toISOString().slice(0, 19).replace('T', ' ')}`.slice(0, 64).trim();
        const snapshots = (core as Core & SnapshotTaking).snapshots;
        if (!snapshots) throw new VmdeskError('INVALID_INPUT', `A linked clone rests on a snapshot of ${source.config.name}: name one`);
        snapshotRef = (await snapshots.take(source.uuid, { name, ...(passphrase === undefined ? {} : { passphrase }) }).result).id;
      }
      const result = await withLock(machineLockFile(source.dir), `cloning ${source.config.name}`, async () => {
        const fresh = await core.library.find(source.uuid);
        const snapshot: SnapshotRef | null =
          snapshotRef === undefined ? null : await findSnapshot(fresh.dir, fresh.config.name, snapshotRef);
        const running = sourceRunning();
        const agent = isEncrypted(fresh.config) && input.linked && running ? await core.runtime.connect(fresh.config, fresh.dir) : null;
        const key = agent ? { qemu: agent } : passphrase === undefined ? null : { passphrase };
        try {
          return await cloneMachine(
            core.library,
            fresh,
            { name: input.name, linked: input.linked, snapshot, sourceRunning: running, key },
            ctx,
          );
        } finally {
          agent?.close();
        }
      });
      core.emit('machines');
      return result;
    },
    (r): CloneOutcome => ({ uuid: r.config.uuid, name: r.config.name, dir: r.dir, disks: r.disks }),
  );
}

export async function moveMachineTask(core: Core, ref: string, rawDir: string): Promise<{ task: TaskInfo; result: Promise<MoveResult> }> {
  const dir = parseInput(moveTargetSchema, rawDir, 'destination folder');
  const record = await core.library.find(ref);
  const name = record.config.name;
  const status = core.runtime.status(record.uuid);
  if (core.runtime.isActive(status.state))
    throw new VmdeskError('INVALID_STATE', `${name} is ${status.state}: shut it down before moving it`);
  return core.tasks.run(
    `Move ${name}`,
    async (ctx) => {
      const result = await withLock(machineLockFile(record.dir), `moving ${name}`, async () => {
        const fresh = await core.library.find(record.uuid);
        const running = core.runtime.isRunning(fresh.uuid);
        return moveMachine(core.library, fresh, dir, running, ctx);
      });
      core.emit('machines');
      return result;
    },
    (r): MoveOutcome => ({ from: r.from, dir: r.dir, method: r.method }),
  );
}
