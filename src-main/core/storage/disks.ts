/**
 * A machine's disks and CD-ROM: add (a new qcow2 or raw image, or an existing one used in place),
 * remove (keeping or deleting the file), resize (grow; shrink only when forced; live through QMP
 * block_resize), and change or eject the CD-ROM, live through QMP on the running guest's drive.
 * The caller holds the machine's lock; `qmp` is set when the machine runs.
 */
import type { LockedMachine, Qmp } from '../machines/on-machine.js';
import fs from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import type { DiskConfig, MachineConfig } from '../../api/machine-config.js';
import { saveMachineConfig, type Library } from '../library/library.js';
import { requireIsoImage } from '../machines/media.js';
import { DISKS_DIR } from '../paths.js';
import { resolveMachinePath } from '../qemu/qemu-args.js';
import { checkImage, createImage, imageInfo, resizeImage } from '../qemu/qemu-img.js';
import { inspectForeignImage } from './foreign-image.js';
import { imageUsers } from './image-users.js';
import { isInside } from '../fs/path-inside.js';

export type { Qmp } from '../machines/on-machine.js';
/** The machine a disk operation works on (its fresh record, under its lock). */
export type MachineRef = LockedMachine;

export interface AddDiskInput {
  /** A new empty image of this many bytes… */
  sizeBytes?: number;
  format?: 'qcow2' | 'raw';
  /** …or an existing image, used in place. */
  file?: string;
  /** Backing files of `file` the user confirmed. */
  trustBacking?: string[];
  bus?: 'virtio' | 'sata';
}

export interface DiskChange {
  config: MachineConfig;
  /** True when the running guest saw the change now; false when it applies at the next start. */
  live: boolean;
  warnings: string[];
}

const MAX_DISKS = 8;

function findDisk(machine: MachineRef, diskId: string): DiskConfig {
  const disk = machine.config.disks.find((d) => d.id === diskId);
  if (!disk) {
    const ids = machine.config.disks.map((d) => d.id).join(', ');
    throw new VmdeskError(
      'NOT_FOUND',
      `${machine.config.name} has no disk "${diskId}"${ids ? ` (its disks: ${ids})` : ' (it has no disks)'}`,
    );
  }
  return disk;
}

export async function addDisk(
  library: Library,
  machine: MachineRef,
  input: AddDiskInput,
  running: boolean,
): Promise<DiskChange & { disk: DiskConfig }> {
  const { config } = machine;
  if ((input.sizeBytes === undefined) === (input.file === undefined))
    throw new VmdeskError('INVALID_INPUT', 'Give either a size for a new disk or an existing image file');
  if (config.disks.length >= MAX_DISKS)
    throw new VmdeskError('INVALID_INPUT', `${config.name} already has ${MAX_DISKS} disks, the most a machine can have`);
  const used = new Set(config.disks.map((d) => d.id));
  let n = 0;
  while (used.has(`disk${n}`)) n++;
  const id = `disk${n}`;
  const bus = input.bus ?? 'virtio';
  if (bus === 'sata' && config.disks.filter((d) => d.bus === 'sata').length + (config.cdrom ? 1 : 0) >= 6)
    throw new VmdeskError('INVALID_INPUT', 'The SATA controller has no free port (6 ports, the CD-ROM takes one)');
  let disk: DiskConfig;
  let created: string | null = null;
  if (input.file !== undefined) {
    const abs = path.resolve(input.file);
    const info = await inspectForeignImage(abs, { what: 'disk image', trustedBacking: input.trustBacking ?? [] });
    await checkImage(abs, info.format);
    const users = await imageUsers(library, abs);
    if (users.length > 0) {
      const who = users.map((u) => `${u.name} (${u.use === 'cdrom' ? 'CD-ROM' : u.use === 'disk' ? u.device : `${u.use} of ${u.device}`})`);
      throw new VmdeskError(
        'INVALID_INPUT',
        `${abs} is already used by ${[...new Set(who)].join(', ')}: two machines writing one image would corrupt it`,
      );
    }
    disk = { id, file: abs, format: info.format, bus, readOnly: false };
    if (info.backing.length > 0) disk.trustedBacking = info.backing.map((l) => l.file);
  } else {
    const format = input.format ?? 'qcow2';
    const size = input.sizeBytes ?? 0;
    const file = path.join(DISKS_DIR, `${id}.${format}`);
    const abs = path.join(machine.dir, file);
    await fs.mkdir(path.dirname(abs), { recursive: true });
    await createImage(abs, format, size);
    created = abs;
    disk = { id, file, format, bus, readOnly: false };
  }
  const next: MachineConfig = { ...structuredClone(config), disks: [...config.disks, disk] };
  try {
    await saveMachineConfig(machine.dir, next);
  } catch (err) {
    if (created) await fs.rm(created, { force: true });
    throw err;
  }
  const warnings = running ? [`${config.name} is running: the disk ${id} appears at its next start`] : [];
  return { config: next, live: false, warnings, disk };
}

export async function removeDisk(
  library: Library,
  machine: MachineRef,
  diskId: string,
  options: { deleteFile?: boolean },
  running: boolean,
): Promise<DiskChange & { deleted: string | null }> {
  const { config } = machine;
  const disk = findDisk(machine, diskId);
  if (running) throw new VmdeskError('INVALID_STATE', `${config.name} is running: shut it down before removing a disk`);
  const abs = path.resolve(resolveMachinePath(machine.dir, disk.file));
  const warnings: string[] = [];
  let deleted: string | null = null;
  if (options.deleteFile) {
    const others = (await imageUsers(library, abs)).filter((u) => !(u.uuid === machine.uuid && u.device === diskId && u.use === 'disk'));
    if (others.length > 0) {
      const who = [...new Set(others.map((u) => u.name))].join(', ');
      throw new VmdeskError('INVALID_STATE', `${abs} is also used by ${who}: remove the disk without deleting its file`);
    }
    if (!isInside(machine.dir, abs))
      throw new VmdeskError(
        'INVALID_INPUT',
        `${abs} is not in ${config.name}'s folder: VMDesk deletes only images it keeps; remove the disk without --delete-file`,
      );
  }
  const next: MachineConfig = { ...structuredClone(config), disks: config.disks.filter((d) => d.id !== diskId) };
  await saveMachineConfig(machine.dir, next);
  if (options.deleteFile) {
    await fs.rm(abs, { force: true });
    deleted = abs;
  }
  return { config: next, live: false, warnings, deleted };
}

interface BlockInfo {
  device?: string;
  qdev?: string;
  tray_open?: boolean;
  inserted?: { 'node-name'?: string; image?: { 'virtual-size'?: number } };
}

async function findBlock(qmp: Qmp, qdevId: string): Promise<BlockInfo | null> {
  const blocks = (await qmp('query-block')) as BlockInfo[];
  return (
    blocks.find(
      (b) => b.qdev === qdevId || b.qdev === `/machine/peripheral/${qdevId}` || b.qdev?.startsWith(`/machine/peripheral/${qdevId}/`),
    ) ?? null
  );
}

export async function resizeDisk(
  machine: MachineRef,
  diskId: string,
  requested: number,
  options: { forceShrink?: boolean },
  qmp: Qmp | null,
): Promise<DiskChange & { sizeBytes: number; previousBytes: number }> {
  const disk = findDisk(machine, diskId);
  if (!Number.isSafeInteger(requested) || requested <= 0)
    throw new VmdeskError('INVALID_INPUT', 'A disk size must be a positive number of bytes');
  if (disk.readOnly) throw new VmdeskError('INVALID_INPUT', `${diskId} is read-only`);
  // qcow2 and most formats size images in 512-byte sectors.
  const size = Math.ceil(requested / 512) * 512;
  const file = resolveMachinePath(machine.dir, disk.file);
  const warnings: string[] = [];
  if (qmp) {
    const block = await findBlock(qmp, `${diskId}-dev`);
    const node = block?.inserted?.['node-name'];
    if (!node)
      throw new VmdeskError(
        'INVALID_STATE',
        `The running machine has no drive for ${diskId} (added after it started?): resize it once it is shut down`,
      );
    const current = block.inserted?.image?.['virtual-size'] ?? (await imageInfo(file, disk.format)).virtualSize;
    if (size < current)
      throw new VmdeskError(
        'INVALID_STATE',
        `Shrinking a disk of a running machine is not possible: shut ${machine.config.name} down first (and use --force-shrink)`,
      );
    if (size !== current) await qmp('block_resize', { 'node-name': node, size });
    return { config: machine.config, live: true, warnings, sizeBytes: size, previousBytes: current };
  }
  const { virtualSize } = await imageInfo(file, disk.format);
  if (size < virtualSize) {
    if (!options.forceShrink)
      throw new VmdeskError(
        'INVALID_INPUT',
        `Shrinking ${diskId} from ${virtualSize} to ${size} bytes cuts off whatever the guest keeps at its end: shrink its file systems and partitions inside the guest first, then use --force-shrink`,
      );
    warnings.push(`${diskId} was shrunk: data beyond ${size} bytes is gone`);
  }
  if (size !== virtualSize) await resizeImage(file, disk.format, size, { allowShrink: options.forceShrink === true });
  return { config: machine.config, live: false, warnings, sizeBytes: size, previousBytes: virtualSize };
}

const CD_DEVICE = 'cd0-dev';

/** Insert an ISO (absolute path) into the CD drive, or empty it with null. Live when the machine runs. */
export async function changeMedium(machine: MachineRef, iso: string | null, qmp: Qmp | null): Promise<DiskChange> {
  const { config } = machine;
  const abs = iso === null ? null : path.resolve(resolveMachinePath(machine.dir, iso));
  if (abs) await requireIsoImage(abs);
  const next: MachineConfig = { ...structuredClone(config), cdrom: { file: abs } };
  const warnings: string[] = [];
  let live = false;
  if (qmp && config.cdrom === null) {
    warnings.push(`${config.name} was started without a CD drive: it gets one at its next start`);
  } else if (qmp) {
    const block = await findBlock(qmp, CD_DEVICE);
    if (!block) throw new VmdeskError('INVALID_STATE', `The running machine has no CD drive ${CD_DEVICE}`);
    const old = block.inserted?.['node-name'];
    await qmp('blockdev-open-tray', { id: CD_DEVICE, force: true });
    await qmp('blockdev-remove-medium', { id: CD_DEVICE });
    if (old) await qmp('blockdev-del', { 'node-name': old }).catch(() => undefined);
    if (abs) {
      const node = `cd0-${Date.now().toString(36)}`;
      await qmp('blockdev-add', {
        driver: 'raw',
        'node-name': node,
        'read-only': true,
        file: { driver: 'file', filename: abs, 'read-only': true },
      });
      await qmp('blockdev-insert-medium', { id: CD_DEVICE, 'node-name': node });
    }
    await qmp('blockdev-close-tray', { id: CD_DEVICE });
    live = true;
  }
  await saveMachineConfig(machine.dir, next);
  return { config: next, live, warnings };
}
