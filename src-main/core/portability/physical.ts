/**
 * P2V and V2P. P2V copies a physical disk (a block device) or a raw image of one into a new
 * machine as qcow2: the source is opened read-only and always read as raw (a disk whose first
 * sector happens to look like a qcow2 header must not be probed into one). V2P writes a machine's
 * disk out as a raw image file (new files only, written under a temporary name and linked into
 * place when complete) or onto a block device, which takes an explicit confirmation and must be
 * unused and big enough.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import type { DiskConfig, MachineConfig } from '../../api/machine-config.js';
import type { HostCapabilities } from '../host/capabilities.js';
import type { Library } from '../library/library.js';
import { createMachine, type CreateResult } from '../machines/create-machine.js';
import { DISKS_DIR } from '../paths.js';
import { resolveMachinePath } from '../qemu/qemu-args.js';
import { imageInfo } from '../qemu/qemu-img.js';
import type { TaskContext } from '../tasks/task-manager.js';
import { blockDevice, requireUnused } from './block-device.js';
import { probeFirmware } from './firmware-probe.js';
import { convertTo, imageSpec } from './image-source.js';
import { qemuImgError, runQemuImg } from '../qemu/qemu-img-run.js';
import { syncDir } from '../fs/atomic-file.js';
import { requireHostFile } from '../fs/host-file.js';
import { fileReader } from '../storage/foreign-image.js';
import { sniffImage } from '../storage/image-header.js';
import { claimFolder, releaseFolder, sweepStale } from './staging.js';

async function statOrNull(file: string): Promise<import('node:fs').Stats | null> {
  return fs.stat(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw new VmdeskError('IO', `Cannot read ${file}: ${err.message}`);
  });
}

/** Make a machine from a physical disk or a raw image of one. */
export async function physicalToVirtual(
  library: Library,
  host: HostCapabilities,
  source: string,
  name: string,
  ctx: TaskContext,
): Promise<CreateResult> {
  const given = await requireHostFile(source, 'P2V source', 'allow');
  const src = path.resolve(source);
  let size: number;
  let device = false;
  const warnings: string[] = [];
  if (given.blockDevice) {
    const dev = await blockDevice(given.path);
    if (!dev) throw new VmdeskError('INVALID_INPUT', `${src} is not a disk VMDesk can read`);
    requireUnused(dev);
    size = dev.size;
    device = true;
  } else {
    size = given.stat.size;
    // An image file is recognised by VMDesk from its magic, never by QEMU's probe.
    const handle = await fs.open(given.path, 'r');
    const sniff = await sniffImage(fileReader(handle, size), size).finally(() => handle.close());
    const found = 'format' in sniff ? sniff.format : sniff.unsupported;
    if (found !== 'raw')
      throw new VmdeskError('INVALID_INPUT', `${src} is a ${found} image, not a raw disk image: use vmdesk import for it`);
  }
  if (size === 0 || size % 512 !== 0)
    throw new VmdeskError('INVALID_INPUT', `${src} is ${size} bytes, not a whole number of 512-byte sectors: not a disk`);
  // Proves read access with O_RDONLY before anything is created; qemu-img opens it read-only too.
  await (await fs.open(src, 'r')).close();
  await library.ensure();
  await sweepStale(library.machinesDir, '.staging-');
  // A disk set up for UEFI (GPT with an EFI system partition) gets UEFI firmware when the host has it.
  let firmware = await probeFirmware(src);
  if (firmware === 'uefi' && (!host.firmware.ovmfCode || !host.firmware.ovmfVars)) {
    firmware = 'bios';
    warnings.push('The disk boots with UEFI, but UEFI firmware (OVMF) is not installed: the machine gets BIOS (sudo apt-get install ovmf)');
  }
  const source_ = imageSpec({ path: src, offset: 0, size, device }, 'raw');
  const result = await createMachine(
    library,
    host,
    { name, osType: 'other', memoryMiB: 1024, firmware, network: 'nat', notes: `Made from ${src} (P2V)` },
    ctx,
    {
      fill: async (staging, fillCtx) => {
        await claimFolder(staging);
        const rel = path.join(DISKS_DIR, 'disk0.qcow2');
        fillCtx.progress(0, `Copying ${src}`);
        await convertTo(source_, path.join(staging, rel), 'qcow2', {
          what: src,
          signal: fillCtx.signal,
          onProgress: (f) => fillCtx.progress(f),
        });
        // A physical machine's OS has AHCI drivers; virtio ones it may lack.
        const disk: DiskConfig = { id: 'disk0', file: rel, format: 'qcow2', bus: 'sata', readOnly: false };
        return { disks: [disk], nicModels: ['e1000'] };
      },
    },
  );
  await releaseFolder(result.dir);
  return { ...result, warnings: [...warnings, ...result.warnings] };
}

export interface V2pOptions {
  disk?: string;
  /** Writing to a block device destroys what it holds: the caller must say so. */
  confirmDevice?: boolean;
}

export interface V2pResult {
  target: string;
  device: boolean;
  bytes: number;
}

/** Write a stopped machine's disk (the caller holds its lock) as raw to a new file or a block device. */
export async function virtualToPhysical(
  config: MachineConfig,
  machineDir: string,
  target: string,
  opts: V2pOptions,
  ctx: TaskContext,
): Promise<V2pResult> {
  const disk = opts.disk ? config.disks.find((d) => d.id === opts.disk) : config.disks[0];
  if (!disk) throw new VmdeskError('NOT_FOUND', opts.disk ? `${config.name} has no disk ${opts.disk}` : `${config.name} has no disk`);
  const src = resolveMachinePath(machineDir, disk.file);
  const info = await imageInfo(src, disk.format);
  const out = path.resolve(target);
  const st = await statOrNull(out);
  const source = `json:${JSON.stringify({ driver: disk.format, 'read-only': true, file: { driver: 'file', filename: src } })}`;
  if (st?.isBlockDevice()) {
    if (!opts.confirmDevice) {
      throw new VmdeskError(
        'INVALID_INPUT',
        `Writing to ${out} destroys everything on it: confirm with --yes-overwrite-device (confirmDevice)`,
      );
    }
    const dev = await blockDevice(out);
    if (!dev) throw new VmdeskError('INTERNAL', `${out} is not a block device`);
    requireUnused(dev);
    if (dev.size < info.virtualSize) {
      throw new VmdeskError(
        'INVALID_INPUT',
        `${out} holds ${dev.size} bytes, less than the ${info.virtualSize} bytes of ${disk.id}: refused`,
      );
    }
    ctx.progress(0, `Writing ${disk.id} to ${out}`);
    const r = await runQemuImg(['convert', '-p', '-n', '-O', 'raw', source, out], {
      signal: ctx.signal,
      onProgress: (f) => ctx.progress(f),
    });
    if (r.code !== 0) throw qemuImgError(`write ${disk.id} to ${out}`, r);
    await fsyncDevice(out);
    return { target: out, device: true, bytes: info.virtualSize };
  }
  if (st) throw new VmdeskError('ALREADY_EXISTS', `${out} already exists (V2P writes a new image file, or a block device)`);
  const parent = path.dirname(out);
  const dirStat = await statOrNull(parent);
  if (!dirStat?.isDirectory()) throw new VmdeskError('NOT_FOUND', `The folder ${parent} does not exist`);
  await sweepStale(parent, '.vmdesk-v2p-');
  const scratch = await fs.mkdtemp(path.join(parent, '.vmdesk-v2p-'));
  try {
    await claimFolder(scratch);
    const partial = path.join(scratch, 'partial.img');
    ctx.progress(0, `Writing ${disk.id} to ${out}`);
    await convertTo(source, partial, 'raw', {
      what: `${disk.id} of ${config.name}`,
      signal: ctx.signal,
      onProgress: (f) => ctx.progress(f),
    });
    // convertTo made the partial image durable; its new name must be too.
    await fs.link(partial, out).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EEXIST') throw new VmdeskError('ALREADY_EXISTS', `${out} was created by someone else meanwhile`);
      throw err;
    });
    await syncDir(parent);
    return { target: out, device: false, bytes: info.virtualSize };
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

async function fsyncDevice(dev: string): Promise<void> {
  const h = await fs.open(dev, 'r+');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
