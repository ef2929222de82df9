/**
 * Full and linked clones (VirtualBox's "Clone": current state or a snapshot; full or linked).
 *
 * - Full: each disk's backing chain is flattened into one independent image with `qemu-img
 *   convert` (a lone image without backing file is reflinked first where the filesystem can).
 * - Linked: each disk becomes a new qcow2 overlay on the snapshot's frozen image, named by its
 *   absolute path: constant time whatever the disk size. Frozen images never change, so the base may
 *   even keep running.
 *
 * The new machine gets a new name, uuid and MAC addresses, the UEFI variables, and no snapshots. It is
 * built in a hidden staging folder and renamed into place only when complete, so a killed core leaves
 * nothing half-registered and never touches the source. A running source is cloned only from a
 * snapshot: its live disks have no consistent point to copy from (virt-manager refuses too).
 */
import { randomUUID } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import { machineNameSchema, type DiskConfig, type MachineConfig } from '../../api/machine-config.js';
import { parseInput } from '../../api/validation.js';
import { saveMachineConfig, type Library, type MachineRecord } from '../library/library.js';
import { takenMacs } from '../machines/create-machine.js';
import { generateMac } from '../machines/media.js';
import { DISKS_DIR, LOGS_DIR, NVRAM_FILE } from '../paths.js';
import { resolveMachinePath } from '../qemu/qemu-args.js';
import { convertImage } from '../qemu/qemu-img.js';
import { createEncryptedOverlay, type OverlayKey } from '../snapshots/encrypted-overlay.js';
import { convertToEncrypted } from '../storage/encryption.js';
import { backingChain, createOverlay, type ChainImage } from '../storage/image-chain.js';
import type { SnapshotRef } from '../storage/snapshot-files.js';
import type { TaskContext } from '../tasks/task-manager.js';
import { clearOwner, formatBytes, freeBytes, isAbandoned, makeStaging } from './staging.js';
import { sweepDebris } from '../library/debris.js';
import { syncDir, syncTree } from '../fs/atomic-file.js';

export interface CloneOptions {
  name: string;
  linked: boolean;
  /** Clone this snapshot's state (its frozen images and its configuration) instead of the current state. */
  snapshot: SnapshotRef | null;
  /** Whether the source runs now. */
  sourceRunning: boolean;
  /**
   * Encrypted disks: who writes their copies' LUKS headers (the clone keeps their passphrase): the
   * passphrase, or a running source's QEMU for a linked clone's overlays.
   */
  key?: OverlayKey | null;
}

export interface CloneResult {
  config: MachineConfig;
  dir: string;
  /** How each disk was made: reflink, convert or overlay. */
  disks: Array<{ id: string; method: 'reflink' | 'convert' | 'overlay'; file: string }>;
}

const exists = (p: string): Promise<boolean> =>
  fs.lstat(p).then(
    () => true,
    () => false,
  );

/** Names and folders are checked before anything is written. */
export async function requireFreeName(library: Library, name: string): Promise<string> {
  const valid = parseInput(machineNameSchema, name, 'new machine name');
  const records = await library.list();
  if (records.some((r) => r.config?.name === valid)) throw new VmdeskError('ALREADY_EXISTS', `A machine named "${valid}" already exists`);
  const finalDir = path.join(library.machinesDir, valid);
  // A folder left by a clone whose core was killed between its rename and its registration.
  if (!records.some((r) => r.dir === finalDir) && (await isAbandoned(finalDir))) await fs.rm(finalDir, { recursive: true, force: true });
  if (await exists(finalDir))
    throw new VmdeskError('ALREADY_EXISTS', `The folder ${finalDir} already exists; remove it or choose another name`);
  return valid;
}

/**
 * `cp --reflink=always`: a copy-on-write clone of the file's extents, instant whatever its size, or
 * false when the filesystem cannot (ext4, across filesystems).
 */
export async function tryReflink(src: string, dst: string): Promise<boolean> {
  try {
    await fs.copyFile(src, dst, fsConstants.COPYFILE_EXCL | fsConstants.COPYFILE_FICLONE_FORCE);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new VmdeskError('ALREADY_EXISTS', `${dst} already exists`);
    await fs.rm(dst, { force: true });
    return false;
  }
}

function passphraseOf(key: OverlayKey | null): string {
  if (key === null || !('passphrase' in key)) throw new VmdeskError('INTERNAL', 'An encrypted disk is copied only with its passphrase');
  return key.passphrase;
}

interface DiskPlan {
  disk: DiskConfig;
  /** The image whose content the clone's disk takes (top of the chain to flatten, or frozen image). */
  source: string;
  chain: ChainImage[];
}

export async function cloneMachine(
  library: Library,
  source: MachineRecord & { config: MachineConfig },
  options: CloneOptions,
  ctx: TaskContext,
): Promise<CloneResult> {
  const name = await requireFreeName(library, options.name);
  const { snapshot } = options;
  if (options.linked && !snapshot) throw new VmdeskError('INVALID_INPUT', 'A linked clone rests on a snapshot: name one');
  if (!snapshot && options.sourceRunning) {
    throw new VmdeskError(
      'INVALID_STATE',
      `${source.config.name} is running: its disks change while they are copied. Stop it, or clone one of its snapshots (--snapshot NAME), or make a linked clone (which takes a snapshot)`,
    );
  }
  const base: MachineConfig = snapshot?.config ?? source.config;
  const plans: DiskPlan[] = [];
  for (const disk of base.disks) {
    const frozen = snapshot?.disks.find((d) => d.id === disk.id)?.file;
    const file = frozen ?? resolveMachinePath(source.dir, disk.file);
    // A linked clone needs no chain: its overlay names the image, whose format the snapshot's config records.
    const chain = options.linked ? [] : await backingChain(file, disk.format);
    plans.push({ disk, source: path.resolve(file), chain });
  }

  await library.ensure();
  await sweepDebris(library);
  if (!options.linked) {
    const needed = plans.reduce((sum, p) => sum + p.chain.reduce((s, img) => s + img.actualSize, 0), 0);
    const free = await freeBytes(library.machinesDir);
    if (needed > free)
      throw new VmdeskError(
        'IO',
        `Not enough free space for a full clone of ${source.config.name}: it needs up to ${formatBytes(needed)} and ${library.machinesDir} has ${formatBytes(free)} free. Free some space, or make a linked clone.`,
        { needed, free },
      );
  }

  const uuid = randomUUID();
  const staging = await makeStaging(library.machinesDir);
  try {
    await fs.mkdir(path.join(staging, DISKS_DIR));
    await fs.mkdir(path.join(staging, LOGS_DIR));
    const made: CloneResult['disks'] = [];
    const disks: DiskConfig[] = [];
    const totalBytes = plans.reduce((s, p) => s + (p.chain[0]?.virtualSize ?? 0), 0) || 1;
    let doneBytes = 0;
    for (const plan of plans) {
      if (ctx.signal.aborted) throw new VmdeskError('CANCELLED', 'Cancelled');
      if (options.linked) {
        const file = path.join(DISKS_DIR, `${plan.disk.id}.qcow2`);
        if (plan.disk.encrypted === true)
          await createEncryptedOverlay(path.join(staging, file), plan.source, options.key ?? null, { absoluteBacking: true });
        else await createOverlay(path.join(staging, file), plan.source, plan.disk.format);
        disks.push({ ...plan.disk, file, format: 'qcow2' });
        made.push({ id: plan.disk.id, method: 'overlay', file });
        continue;
      }
      const top = plan.chain[0];
      if (!top) throw new VmdeskError('INTERNAL', `No image for ${plan.disk.id}`);
      const keepRaw = top.format === 'raw' && plan.chain.length === 1;
      const format = keepRaw ? 'raw' : 'qcow2';
      const file = path.join(DISKS_DIR, `${plan.disk.id}.${format}`);
      const target = path.join(staging, file);
      const lone = plan.chain.length === 1 && (top.format === 'qcow2' || top.format === 'raw');
      ctx.progress(doneBytes / totalBytes, `Copying ${plan.disk.id}`);
      if (lone && (await tryReflink(plan.source, target))) {
        made.push({ id: plan.disk.id, method: 'reflink', file });
      } else {
        const start = doneBytes;
        const copying = {
          signal: ctx.signal,
          onProgress: (f: number) => ctx.progress((start + f * top.virtualSize) / totalBytes, `Copying ${plan.disk.id}`),
        };
        if (plan.disk.encrypted === true)
          await convertToEncrypted(plan.source, top.format, target, passphraseOf(options.key ?? null), {
            ...copying,
            encryptedSource: true,
          });
        else await convertImage(plan.source, top.format, target, format, copying);
        made.push({ id: plan.disk.id, method: 'convert', file });
      }
      doneBytes += top.virtualSize;
      disks.push({ ...plan.disk, file, format });
    }

    // Files the machine keeps in its own folder (the demo guest's kernel and initrd) come along.
    const copyInFolder = async (file: string): Promise<string> => {
      if (path.isAbsolute(file)) return file;
      const target = path.join(staging, file);
      if (path.relative(staging, target).startsWith('..')) return resolveMachinePath(source.dir, file);
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.copyFile(resolveMachinePath(source.dir, file), target, fsConstants.COPYFILE_FICLONE);
      return file;
    };
    const kernelBoot = base.kernelBoot
      ? {
          ...base.kernelBoot,
          kernel: await copyInFolder(base.kernelBoot.kernel),
          initrd: base.kernelBoot.initrd ? await copyInFolder(base.kernelBoot.initrd) : null,
        }
      : null;
    const cdrom = base.cdrom ? { file: base.cdrom.file ? path.resolve(resolveMachinePath(source.dir, base.cdrom.file)) : null } : null;
    if (base.firmware === 'uefi') {
      const nvram = snapshot?.nvram ?? path.join(source.dir, NVRAM_FILE);
      if (await exists(nvram)) await fs.copyFile(nvram, path.join(staging, NVRAM_FILE));
    }
    const macs = await takenMacs(library);
    const nics = base.nics.map((nic) => {
      const mac = generateMac(macs);
      macs.add(mac);
      return { ...nic, mac };
    });
    const config: MachineConfig = {
      ...structuredClone(base),
      uuid,
      name,
      disks,
      kernelBoot,
      cdrom,
      nics,
      createdAt: new Date().toISOString(),
    };
    await saveMachineConfig(staging, config);
    if (ctx.signal.aborted) throw new VmdeskError('CANCELLED', 'Cancelled');
    const finalDir = path.join(library.machinesDir, name);
    // Durable before it is registered: a power loss must not leave a registered machine with lost disks.
    await syncTree(staging);
    await fs.rename(staging, finalDir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOTEMPTY' || err.code === 'EEXIST')
        throw new VmdeskError('ALREADY_EXISTS', `A machine named "${name}" was just created by another process`);
      throw err;
    });
    await syncDir(library.machinesDir);
    try {
      await library.register({ uuid, dir: finalDir }, name);
    } catch (err) {
      await fs.rm(finalDir, { recursive: true, force: true });
      throw err;
    }
    await clearOwner(finalDir);
    ctx.progress(1, 'Cloned');
    return { config, dir: finalDir, disks: made };
  } catch (err) {
    await fs.rm(staging, { recursive: true, force: true });
    throw err;
  }
}
