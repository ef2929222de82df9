/**
 * Suspend to disk: a running machine's RAM and devices saved to a file, then QEMU quits; the next
 * start resumes from it (Core.start asks savedStateForStart, and consumes the state once loaded).
 */
import { randomUUID } from 'node:crypto';
import { VmdeskError } from '../../api/errors.js';
import type { MachineConfig } from '../../api/machine-config.js';
import type { AgentClient } from '../agent/agent-client.js';
import { resolveMachinePath } from '../qemu/qemu-args.js';
import type { TaskContext } from '../tasks/task-manager.js';
import { exists, isRunning, makeSnapshotsDir, removeSnapshotsDirIfEmpty, type Machine, type SnapshotServices } from './common.js';
import { consoleFileOf, keepConsole, removeStateFiles, syncStateFiles } from './console.js';
import { saveRamState, stateRamKiB } from './ram-state.js';
import { hardwareDigest, hasSavedState, loadSavedState, newOwnFile, removeSavedStateRecord, writeSavedState } from './store.js';

/**
 * Saves the state of a running machine (under its lock), with its console (its agent's runtime dir
 * says what that is), and stops its QEMU; returns the state file.
 */
export async function saveMachineState(client: AgentClient, machine: Machine, runtimeDir: string, ctx: TaskContext): Promise<string> {
  const { dir, config } = machine;
  if (hasSavedState(dir)) throw new VmdeskError('INVALID_STATE', `${config.name} already has a saved state`);
  const wasRunning = (await client.request<{ state: string }>({ op: 'status' })).state === 'running';
  if (wasRunning) await client.request({ op: 'pause' });
  await makeSnapshotsDir(dir);
  const vmstate = newOwnFile(randomUUID(), 'vmstate');
  const file = resolveMachinePath(dir, vmstate);
  try {
    await saveRamState(client, file, {
      onProgress: (f) => ctx.progress(f, 'Saving memory'),
      signal: ctx.signal,
    });
    await keepConsole(runtimeDir, file);
    await syncStateFiles(file);
    await writeSavedState(dir, {
      version: 1,
      file: vmstate,
      owner: 'machine',
      createdAt: new Date().toISOString(),
      hardware: hardwareDigest(config),
    });
  } catch (err) {
    // No record, no state file: a state nobody refers to would only take space (the disk is full?).
    await removeStateFiles(dir, vmstate);
    await removeSnapshotsDirIfEmpty(dir);
    if (wasRunning) await client.request({ op: 'resume' }).catch(() => undefined);
    throw err;
  }
  ctx.progress(1, 'Stopping QEMU');
  const stopped = await client.request<{ exited?: boolean }>({ op: 'poweroff' }, 20_000);
  if (stopped.exited) await client.whenClosed(5_000);
  return file;
}

/** Discards the saved state of a stopped machine (under its lock): it boots afresh. */
export async function discardSavedState(services: SnapshotServices, { dir, config, uuid }: Machine): Promise<void> {
  if (isRunning(services, uuid)) throw new VmdeskError('INVALID_STATE', `${config.name} is running`);
  const saved = loadSavedState(dir);
  if (!saved) throw new VmdeskError('INVALID_STATE', `${config.name} has no saved state`);
  await removeSavedStateRecord(dir);
  if (saved.owner === 'machine') await removeStateFiles(dir, saved.file);
}

/**
 * For Core.start (under the machine lock): the saved RAM state to resume from, if any, with the
 * console kept with it (null if none was: the console starts blank). Refuses a state saved with
 * other hardware, which QEMU could not load.
 */
export async function savedStateForStart(
  dir: string,
  config: MachineConfig,
): Promise<{ file: string; ramKiB: number | null; console: string | null } | null> {
  const saved = loadSavedState(dir);
  if (!saved) return null;
  const file = resolveMachinePath(dir, saved.file);
  if (!(await exists(file)))
    throw new VmdeskError(
      'NOT_FOUND',
      `The saved state of ${config.name} is missing (${file}): discard it with \`vmdesk discard-state ${config.name}\``,
    );
  if (saved.hardware !== hardwareDigest(config))
    throw new VmdeskError(
      'INVALID_STATE',
      `The settings of ${config.name} changed since its state was saved, so it cannot resume: undo the change, or discard the saved state (\`vmdesk discard-state ${config.name}\`) to boot afresh`,
    );
  const screen = consoleFileOf(file);
  return { file, ramKiB: await stateRamKiB(file), console: (await exists(screen)) ? screen : null };
}

/** Once QEMU has loaded it: a save-state file is used up (a live snapshot keeps its own). */
export async function consumeSavedState(dir: string): Promise<void> {
  const saved = loadSavedState(dir);
  if (!saved) return;
  await removeSavedStateRecord(dir);
  if (saved.owner === 'machine') await removeStateFiles(dir, saved.file);
}

export function savedStateStartFailure(name: string, err: unknown): VmdeskError {
  const e = err instanceof VmdeskError ? err : new VmdeskError('QEMU_FAILED', (err as Error).message);
  return new VmdeskError(
    e.code,
    `${e.message}\n${name} could not resume from its saved state; to boot it afresh: vmdesk discard-state ${name}`,
    e.details,
  );
}
