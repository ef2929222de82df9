/**
 * Creating a machine: validate everything first, build the folder under a hidden staging name,
 * then rename it into place and register it. A failure or a cancel at any step removes the staging
 * folder, so nothing half-created is ever left in the library.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import {
  CONFIG_VERSION,
  defaultResources,
  type DiskConfig,
  type MachineConfig,
  type NicConfig,
  type BootDevice,
} from '../../api/machine-config.js';
import { createMachineInputSchema, type CreateMachineInput } from '../../api/operations.js';
import { parseInput } from '../../api/validation.js';
import { saveMachineConfig, type Library } from '../library/library.js';
import { DISKS_DIR, LOGS_DIR, NVRAM_FILE } from '../paths.js';
import type { HostCapabilities } from '../host/capabilities.js';
import { checkImage, convertImage, createImage } from '../qemu/qemu-img.js';
import { convertToEncrypted, createEncryptedImage } from '../storage/encryption.js';
import { inspectForeignImage, type ForeignImage } from '../storage/foreign-image.js';
import { DEMO_CMDLINE, ensureDemoGuest } from '../demo/demo-guest.js';
import type { TaskContext } from '../tasks/task-manager.js';
import { generateMac, requireIsoImage } from './media.js';
import { requireHostFile } from '../fs/host-file.js';
import { syncDir, syncTree } from '../fs/atomic-file.js';
import { clearOwner, makeStaging } from '../clone/staging.js';
import { sweepDebris } from '../library/debris.js';

const DEMO_DISK_BYTES = 256 * 1024 * 1024;

export interface CreateResult {
  config: MachineConfig;
  dir: string;
  warnings: string[];
}

/** Resource checks against this host: an error beyond what it has, a warning on oversubscription. */
export function checkResources(cpus: number, memoryMiB: number, host: HostCapabilities): string[] {
  if (memoryMiB > host.memoryMiB) {
    throw new VmdeskError('INVALID_INPUT', `${memoryMiB} MiB of memory is more than this host has (${host.memoryMiB} MiB)`);
  }
  const warnings: string[] = [];
  if (cpus > host.cpus)
    warnings.push(`${cpus} virtual CPUs on a host with ${host.cpus} cores: the CPUs are oversubscribed and the guest will run slower`);
  if (memoryMiB > host.freeMemoryMiB) warnings.push(`${memoryMiB} MiB is more than the ${host.freeMemoryMiB} MiB free right now`);
  return warnings;
}

export async function takenMacs(library: Library): Promise<Set<string>> {
  const records = await library.list();
  return new Set(records.flatMap((r) => r.config?.nics.map((n) => n.mac.toLowerCase()) ?? []));
}

/**
 * What an import adds to a machine being created: it fills the staging folder (disks, boot files)
 * once the inputs are checked, and says what it made. A failure removes the staging folder.
 */
export interface StagedContent {
  fill(
    staging: string,
    ctx: TaskContext,
  ): Promise<{ disks: DiskConfig[]; kernelBoot?: MachineConfig['kernelBoot']; nicModels?: Array<NicConfig['model']> }>;
}

export async function createMachine(
  library: Library,
  host: HostCapabilities,
  rawInput: CreateMachineInput,
  ctx: TaskContext,
  staged?: StagedContent,
): Promise<CreateResult> {
  const input = parseInput(createMachineInputSchema, rawInput, 'machine settings');
  const warnings = checkResources(input.cpus, input.memoryMiB, host);
  if (input.firmware === 'uefi' && (!host.firmware.ovmfCode || !host.firmware.ovmfVars)) {
    throw new VmdeskError('HOST_UNSUPPORTED', 'UEFI firmware (OVMF) is not installed: run `sudo apt-get install ovmf`');
  }
  await library.ensure();
  // What killed creates, clones, imports and moves left behind goes first: it must not hold the name.
  await sweepDebris(library);
  const existing = await library.list();
  if (existing.some((r) => r.config?.name === input.name))
    throw new VmdeskError('ALREADY_EXISTS', `A machine named "${input.name}" already exists`);
  const finalDir = path.join(library.machinesDir, input.name);
  if (
    await fs.stat(finalDir).then(
      () => true,
      () => false,
    )
  ) {
    throw new VmdeskError('ALREADY_EXISTS', `The folder ${finalDir} already exists; remove it or choose another name`);
  }
  // Inputs are checked before anything is written.
  if (input.iso) await requireIsoImage(input.iso);
  const sourceImage = input.importDisk ?? input.attachDisk;
  let sourceInfo: ForeignImage | null = null;
  if (sourceImage) {
    sourceInfo = await inspectForeignImage(sourceImage, { what: 'disk image', trustedBacking: input.trustBacking ?? [] });
    // A corrupt image is refused before anything is copied or registered.
    await checkImage(sourceImage, sourceInfo.format);
  }
  if (input.kernelBoot) {
    await requireHostFile(input.kernelBoot.kernel, 'kernel');
    if (input.kernelBoot.initrd) await requireHostFile(input.kernelBoot.initrd, 'initrd');
  }

  if (input.passphrase !== undefined && !input.importDisk && input.diskBytes === undefined && !input.demo)
    throw new VmdeskError('INVALID_INPUT', 'Nothing to encrypt: give the machine a new disk or an imported one');
  // The disks VMDesk makes for it (a new or imported one) are encrypted when a passphrase is given.
  const encrypted = input.passphrase === undefined ? {} : { encrypted: true };
  const uuid = randomUUID();
  // Its owner file stays until the machine is registered: a kill in between leaves recognisable debris.
  const staging = await makeStaging(library.machinesDir);
  await fs.mkdir(path.join(staging, DISKS_DIR));
  await fs.mkdir(path.join(staging, LOGS_DIR));
  try {
    const disks: DiskConfig[] = [];
    let kernelBoot: MachineConfig['kernelBoot'] = null;
    let nicModels: Array<NicConfig['model']> | undefined;
    if (staged) {
      const filled = await staged.fill(staging, ctx);
      disks.push(...filled.disks);
      if (filled.kernelBoot) kernelBoot = filled.kernelBoot;
      nicModels = filled.nicModels;
    }
    if (input.demo) {
      ctx.progress(null, 'Preparing the demo guest');
      const demo = await ensureDemoGuest({ signal: ctx.signal, onLog: (line) => ctx.progress(null, line) });
      await fs.mkdir(path.join(staging, 'boot'));
      // Under TCG, where the bzImage decompressing itself is half the guest's boot (~2.7 s of 5.5),
      // BIOS machines get the kernel uncompressed, booted by its PVH entry. It is 40 MB against 8, which
      // every migration, backup and export of the machine carries: under KVM, where decompressing
      // takes a fraction of a second, the bzImage. UEFI (OVMF) boots only the bzImage.
      const pvhKernel = input.firmware === 'uefi' || host.preferredAccel === 'kvm' ? null : demo.pvhKernel;
      const kernel = pvhKernel ? 'boot/vmlinux' : 'boot/vmlinuz';
      await linkOrCopy(pvhKernel ?? demo.kernel, path.join(staging, kernel));
      await linkOrCopy(demo.initrd, path.join(staging, 'boot', 'initrd.img'));
      kernelBoot = { kernel, initrd: 'boot/initrd.img', cmdline: DEMO_CMDLINE };
    } else if (input.kernelBoot) {
      kernelBoot = { kernel: input.kernelBoot.kernel, initrd: input.kernelBoot.initrd ?? null, cmdline: input.kernelBoot.cmdline ?? '' };
    }
    if (input.importDisk && sourceInfo) {
      const file = path.join(DISKS_DIR, 'disk0.qcow2');
      ctx.progress(0, `Converting ${path.basename(input.importDisk)} to qcow2`);
      const convertOpts = {
        signal: ctx.signal,
        onProgress: (f: number) => ctx.progress(f, `Converting ${path.basename(input.importDisk ?? '')}`),
      };
      if (input.passphrase === undefined)
        await convertImage(input.importDisk, sourceInfo.format, path.join(staging, file), 'qcow2', convertOpts);
      else await convertToEncrypted(input.importDisk, sourceInfo.format, path.join(staging, file), input.passphrase, convertOpts);
      disks.push({ id: 'disk0', file, format: 'qcow2', bus: 'virtio', readOnly: false, ...encrypted });
    } else if (input.attachDisk && sourceInfo) {
      disks.push({
        id: 'disk0',
        file: path.resolve(input.attachDisk),
        format: sourceInfo.format,
        bus: 'virtio',
        readOnly: false,
        ...(sourceInfo.backing.length > 0 && { trustedBacking: sourceInfo.backing.map((l) => l.file) }),
      });
    }
    const newDiskBytes = input.diskBytes ?? (input.demo ? DEMO_DISK_BYTES : undefined);
    if (newDiskBytes !== undefined) {
      const id = `disk${disks.length}`;
      const file = path.join(DISKS_DIR, `${id}.qcow2`);
      if (input.passphrase === undefined) await createImage(path.join(staging, file), 'qcow2', newDiskBytes);
      else await createEncryptedImage(path.join(staging, file), newDiskBytes, input.passphrase);
      disks.push({ id, file, format: 'qcow2', bus: 'virtio', readOnly: false, ...encrypted });
    }
    if (input.firmware === 'uefi' && host.firmware.ovmfVars) {
      await fs.copyFile(host.firmware.ovmfVars, path.join(staging, NVRAM_FILE));
    }
    const taken = await takenMacs(library);
    const nics: NicConfig[] = (input.network === 'none' ? [] : (nicModels ?? ['virtio-net-pci'])).map((model, i) => {
      const mac = generateMac(taken);
      taken.add(mac);
      return { id: `net${i}`, model, mac, cable: true, attachment: { type: 'nat', portForwards: [] } };
    });
    const defaultOrder: BootDevice[] = input.iso ? ['cdrom', 'disk'] : ['disk', 'cdrom'];
    if (input.networkBoot) defaultOrder.push('network');
    const config: MachineConfig = {
      version: CONFIG_VERSION,
      uuid,
      name: input.name,
      osType: input.osType,
      cpus: input.cpus,
      memoryMiB: input.memoryMiB,
      firmware: input.firmware,
      ...(host.qemu?.defaultMachineType ? { machineType: host.qemu.defaultMachineType } : {}),
      bootOrder: input.bootOrder ?? defaultOrder,
      resources: defaultResources(),
      disks,
      cdrom: { file: input.iso ? path.resolve(input.iso) : null },
      kernelBoot,
      nics,
      display: { adapter: 'std' },
      serial: { enabled: true },
      notes: input.notes,
      createdAt: new Date().toISOString(),
    };
    await saveMachineConfig(staging, config);
    if (ctx.signal.aborted) throw new VmdeskError('CANCELLED', 'Cancelled');
    // Durable before it is registered: a power loss must not leave a registered machine with lost disks.
    await syncTree(staging);
    await fs.rename(staging, finalDir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOTEMPTY' || err.code === 'EEXIST')
        throw new VmdeskError('ALREADY_EXISTS', `A machine named "${config.name}" was just created by another process`);
      throw err;
    });
    await syncDir(path.dirname(finalDir));
    try {
      await library.register({ uuid, dir: finalDir }, config.name);
    } catch (err) {
      await fs.rm(finalDir, { recursive: true, force: true });
      throw err;
    }
    await clearOwner(finalDir);
    ctx.progress(1, 'Created');
    return { config, dir: finalDir, warnings };
  } catch (err) {
    await fs.rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The demo guest's boot files, hard-linked from the cache where both are on one filesystem (the
 * uncompressed kernel is 40 MB, and nothing writes these files in place: a change makes a new file),
 * else copied.
 */
async function linkOrCopy(from: string, to: string): Promise<void> {
  await fs.link(from, to).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EXDEV' && err.code !== 'EPERM' && err.code !== 'EMLINK') throw err;
    await fs.copyFile(from, to);
  });
}
