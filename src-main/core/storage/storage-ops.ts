/**
 * Disk and CD-ROM changes as core operations: under the machine's lock, with QMP on the running
 * guest when there is one.
 */
import {
  addDiskInputSchema,
  diskIdSchema,
  removeDiskOptionsSchema,
  resizeBytesSchema,
  resizeDiskOptionsSchema,
  type AddDiskInput,
  type DiskOutcome,
  type MediumInfo,
} from '../../api/storage.js';
import { hostPathSchema } from '../../api/machine-config.js';
import { parseInput } from '../../api/validation.js';
import type { Core } from '../core.js';
import { onMachine } from '../machines/on-machine.js';
import { addDisk, changeMedium, removeDisk, resizeDisk } from './disks.js';
import { listMedia } from './media-list.js';

export function addDiskOp(core: Core, ref: string, rawInput: AddDiskInput): Promise<DiskOutcome & { id: string; file: string }> {
  const input = parseInput(addDiskInputSchema, rawInput, 'new disk');
  return onMachine(core, ref, 'adding a disk', async (machine, running) => {
    const r = await addDisk(core.library, machine, input, running);
    return { live: r.live, warnings: r.warnings, id: r.disk.id, file: r.disk.file };
  });
}

export function removeDiskOp(
  core: Core,
  ref: string,
  diskId: string,
  options: { deleteFile?: boolean } = {},
): Promise<DiskOutcome & { deleted: string | null }> {
  const id = parseInput(diskIdSchema, diskId, 'disk');
  const opts = parseInput(removeDiskOptionsSchema, options, 'options');
  return onMachine(core, ref, 'removing a disk', async (machine, running) => {
    const r = await removeDisk(core.library, machine, id, opts, running);
    return { live: r.live, warnings: r.warnings, deleted: r.deleted };
  });
}

export function resizeDiskOp(
  core: Core,
  ref: string,
  diskId: string,
  sizeBytes: number,
  options: { forceShrink?: boolean } = {},
): Promise<DiskOutcome & { sizeBytes: number; previousBytes: number }> {
  const id = parseInput(diskIdSchema, diskId, 'disk');
  const size = parseInput(resizeBytesSchema, sizeBytes, 'size');
  const opts = parseInput(resizeDiskOptionsSchema, options, 'options');
  return onMachine(core, ref, 'resizing a disk', async (machine, _running, qmp) => {
    const r = await resizeDisk(machine, id, size, opts, qmp);
    return { live: r.live, warnings: r.warnings, sizeBytes: r.sizeBytes, previousBytes: r.previousBytes };
  });
}

/** Insert an ISO (absolute path) or eject with null; live when the machine runs. */
export function changeMediumOp(core: Core, ref: string, iso: string | null): Promise<DiskOutcome> {
  const file = iso === null ? null : parseInput(hostPathSchema, iso, 'ISO image');
  return onMachine(core, ref, 'changing the CD', async (machine, _running, qmp) => {
    const r = await changeMedium(machine, file, qmp);
    return { live: r.live, warnings: r.warnings };
  });
}

export function listMediaOp(core: Core): Promise<MediumInfo[]> {
  return listMedia(core.library);
}
