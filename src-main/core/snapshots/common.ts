/**
 * What the snapshot operations share: the services the core gives them (never the core itself, so
 * the snapshot code does not import it), the machine they work on, and the snapshots folder.
 */
import { randomUUID } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import type { DiskConfig, MachineConfig } from '../../api/machine-config.js';
import type { AgentClient } from '../agent/agent-client.js';
import type { Library, MachineRecord } from '../library/library.js';
import { SNAPSHOTS_DIR } from '../paths.js';
import { resolveMachinePath } from '../qemu/qemu-args.js';
import type { TaskManager } from '../tasks/task-manager.js';
import type { VmRuntime } from '../vm/vm-runtime.js';
import { isEncrypted, requirePassphrase } from '../storage/encryption.js';
import { createEncryptedOverlay, type OverlayKey } from './encrypted-overlay.js';
import { createOverlay } from './images.js';
import { newOwnFile } from './store.js';

export type Machine = MachineRecord & { config: MachineConfig };

/** What snapshots need of the core. */
export interface SnapshotServices {
  library: Library;
  runtime: Pick<VmRuntime, 'status' | 'isActive' | 'isRunning' | 'connect' | 'dir'>;
  tasks: Pick<TaskManager, 'run'>;
  /** Tells front ends that the machine list and this machine's state changed. */
  changed(uuid: string): void;
  /**
   * Starts a restored machine again in place, with every check and step of a start (under the lock
   * the caller holds): `agent`, a client of its agent, has unloaded its QEMU; that agent relaunches it.
   */
  relaunch(machine: Machine, agent: AgentClient): Promise<unknown>;
}

export function isRunning(services: SnapshotServices, uuid: string): boolean {
  return services.runtime.isRunning(uuid);
}

export async function exists(file: string): Promise<boolean> {
  return fsp.access(file).then(
    () => true,
    () => false,
  );
}

/** Writable disks are snapshotted; read-only ones never change, so they are left as they are. */
export function snapshotDisks(config: MachineConfig): DiskConfig[] {
  const disks = config.disks.filter((d) => !d.readOnly);
  for (const disk of disks) {
    if (disk.format !== 'qcow2')
      throw new VmdeskError(
        'INVALID_STATE',
        `Cannot snapshot ${config.name}: its disk ${disk.id} is ${disk.format}, and snapshots need qcow2 disks. Convert the disk to qcow2 or make it read-only.`,
      );
    if (path.isAbsolute(disk.file))
      throw new VmdeskError(
        'INVALID_STATE',
        `Cannot snapshot ${config.name}: its disk ${disk.id} lives outside the machine folder (${disk.file}). Move or copy it into the machine first.`,
      );
  }
  return disks;
}

/**
 * The machine folder exists, so no recursive mkdir: on a full filesystem Node's recursive mkdir
 * reports ENOENT where mkdir(2) says ENOSPC.
 */
export async function makeSnapshotsDir(dir: string): Promise<void> {
  await fsp.mkdir(path.join(dir, SNAPSHOTS_DIR)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
}

/** A failure that made the snapshots folder (the machine's first) leaves the machine as it was. */
export async function removeSnapshotsDirIfEmpty(dir: string): Promise<void> {
  await fsp.rmdir(path.join(dir, SNAPSHOTS_DIR)).catch(() => undefined);
}

/**
 * An empty overlay on each disk's image, as a new own file of the snapshots folder, encrypted (with
 * `key`) on an encrypted disk; each is listed in `made` once created (the caller removes them if a
 * later step fails). Returns disk id → overlay.
 */
export async function createOverlays(
  dir: string,
  disks: Array<{ id: string; file: string; encrypted?: boolean }>,
  made: string[],
  { sizeOf = () => undefined, key = null }: { sizeOf?: (diskId: string) => number | undefined; key?: OverlayKey | null } = {},
): Promise<Map<string, string>> {
  const overlays = new Map<string, string>();
  for (const disk of disks) {
    const overlay = newOwnFile(randomUUID(), 'qcow2');
    const file = resolveMachinePath(dir, overlay);
    const backing = resolveMachinePath(dir, disk.file);
    if (disk.encrypted === true) await createEncryptedOverlay(file, backing, key, { virtualSize: sizeOf(disk.id) });
    else await createOverlay(file, backing, sizeOf(disk.id));
    made.push(overlay);
    overlays.set(disk.id, overlay);
  }
  return overlays;
}

/**
 * The key for a stopped encrypted machine's new overlays: its passphrase, tried first, so a wrong one
 * writes nothing (`purpose`: what needs it, for the error). null for a machine with no encrypted disk.
 */
export async function passphraseKey(machine: Machine, passphrase: string | undefined, purpose: string): Promise<OverlayKey | null> {
  if (!isEncrypted(machine.config)) return null;
  await requirePassphrase(machine.config, machine.dir, passphrase, purpose);
  return passphrase === undefined ? null : { passphrase };
}
