/**
 * Who uses which image file: every machine's disks with their backing chains (a linked clone's chain
 * runs into its base's frozen images), the frozen images its snapshots keep, and ISOs in CD drives.
 * One scan serves the media manager, the checks before deleting or moving a machine, and the
 * snapshot code's check before it merges a frozen image away (`imageUsers`).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import type { ImageUserInfo } from '../../api/storage.js';
import type { Library } from '../library/library.js';
import { resolveMachinePath } from '../qemu/qemu-args.js';
import { backingChain, type ChainImage } from './image-chain.js';
import { readSnapshots } from './snapshot-files.js';
import { isInside } from '../fs/path-inside.js';

export type ImageUser = ImageUserInfo;
export type ImageUse = ImageUserInfo['use'];

export interface ScannedChain {
  uuid: string;
  name: string;
  dir: string;
  device: string;
  /** The top image (absolute). */
  file: string;
  snapshot?: string;
  /** Top first; empty when the image could not be read (`error` says why). */
  chain: ChainImage[];
  error?: string;
}

export interface LibraryScan {
  chains: ScannedChain[];
  isos: Array<{ uuid: string; name: string; file: string }>;
}

/** At most this many qemu-img processes at once, however big the library. */
const MAX_PARALLEL_READS = 8;

/** Reads each image once, however many chains share it. */
class ChainReader {
  private readonly cache = new Map<string, Promise<ChainImage[]>>();
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  private async slot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= MAX_PARALLEL_READS) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  read(file: string, format: string): Promise<ChainImage[]> {
    const abs = path.resolve(file);
    let chain = this.cache.get(abs);
    if (!chain) {
      chain = this.load(abs, format);
      this.cache.set(abs, chain);
    }
    return chain;
  }

  private async load(abs: string, format: string): Promise<ChainImage[]> {
    if (format === 'raw') {
      // A raw image has no backing file: no need to spawn qemu-img for it.
      const stat = await fs.stat(abs).catch(() => {
        throw new VmdeskError('NOT_FOUND', `Disk image not found: ${abs}`);
      });
      return [{ file: abs, format: 'raw', virtualSize: stat.size, actualSize: stat.blocks * 512, encrypted: false }];
    }
    const chain = await this.slot(() => backingChain(abs, format));
    chain.forEach((image, i) => {
      if (!this.cache.has(image.file)) this.cache.set(image.file, Promise.resolve(chain.slice(i)));
    });
    return chain;
  }
}

/** Every image chain of every machine of the library (optionally only some machines). */
export async function scanLibrary(library: Library, options: { only?: (uuid: string) => boolean } = {}): Promise<LibraryScan> {
  const reader = new ChainReader();
  const scan: LibraryScan = { chains: [], isos: [] };
  const records = (await library.list()).filter((r) => r.config && (!options.only || options.only(r.uuid)));
  await Promise.all(
    records.map(async (record) => {
      const config = record.config;
      if (!config) return;
      const base = { uuid: record.uuid, name: config.name, dir: record.dir };
      const add = async (device: string, file: string, format: string, snapshot?: string): Promise<void> => {
        const entry: ScannedChain = {
          ...base,
          device,
          file: path.resolve(file),
          chain: [],
          ...(snapshot !== undefined ? { snapshot } : {}),
        };
        try {
          entry.chain = await reader.read(file, format);
        } catch (err) {
          entry.error = (err as Error).message;
          entry.chain = [];
        }
        scan.chains.push(entry);
      };
      await Promise.all(config.disks.map((disk) => add(disk.id, resolveMachinePath(record.dir, disk.file), disk.format)));
      const snapshots = await readSnapshots(record.dir).catch(() => []);
      for (const snapshot of snapshots) {
        for (const disk of snapshot.disks) await add(disk.id, disk.file, 'qcow2', snapshot.name);
      }
      if (config.cdrom?.file) scan.isos.push({ ...base, file: path.resolve(resolveMachinePath(record.dir, config.cdrom.file)) });
    }),
  );
  return scan;
}

function usersIn(scan: LibraryScan, matches: (file: string) => boolean): ImageUser[] {
  const users = new Map<string, ImageUser>();
  for (const entry of scan.chains) {
    const index = entry.chain.findIndex((image) => matches(image.file));
    if (index < 0) continue;
    const use: ImageUse = entry.snapshot !== undefined ? 'snapshot' : index === 0 ? 'disk' : 'backing';
    const key = `${entry.uuid}/${entry.device}/${use}/${entry.snapshot ?? ''}`;
    if (!users.has(key))
      users.set(key, {
        uuid: entry.uuid,
        name: entry.name,
        device: entry.device,
        use,
        ...(entry.snapshot !== undefined ? { snapshot: entry.snapshot } : {}),
      });
  }
  for (const iso of scan.isos) {
    if (matches(iso.file)) users.set(`${iso.uuid}/cdrom`, { uuid: iso.uuid, name: iso.name, device: 'cdrom', use: 'cdrom' });
  }
  return [...users.values()];
}

/**
 * The machines that use `file`: as a disk's top image, somewhere under a disk (a backing file), as
 * a frozen image kept by a snapshot, or in a CD drive.
 */
export async function imageUsers(library: Library, file: string): Promise<ImageUser[]> {
  const abs = path.resolve(file);
  return usersIn(await scanLibrary(library), (f) => f === abs);
}

/** Other machines whose disks or snapshots rest on images inside `dir` (linked clones of the machine there). */
export async function dependentMachines(library: Library, dir: string, selfUuid: string): Promise<ImageUser[]> {
  const scan = await scanLibrary(library, { only: (uuid) => uuid !== selfUuid });
  return usersIn(scan, (f) => isInside(path.resolve(dir), f)).filter((u) => u.use !== 'cdrom');
}

/** Refuse an operation on a machine that linked clones rest on, naming them. */
export async function requireNoDependents(
  library: Library,
  record: { uuid: string; dir: string; name: string },
  action: string,
): Promise<void> {
  const users = await dependentMachines(library, record.dir, record.uuid);
  if (users.length === 0) return;
  const names = [...new Set(users.map((u) => u.name))];
  throw new VmdeskError(
    'INVALID_STATE',
    `Cannot ${action} ${record.name}: ${names.length === 1 ? 'the linked clone' : 'the linked clones'} ${names.map((n) => `"${n}"`).join(', ')} ${names.length === 1 ? 'uses' : 'use'} its disk images. Delete ${names.length === 1 ? 'it' : 'them'} first, or make ${names.length === 1 ? 'it' : 'them'} independent with a full clone.`,
    { clones: names, users },
  );
}
