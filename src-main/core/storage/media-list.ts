/**
 * The virtual media manager's list (VirtualBox's Virtual Media Manager): every image the library
 * knows — each machine's disks, the backing files under them, the frozen images snapshots keep, and
 * the ISOs in CD drives — once each, with its format, sizes, backing file and users.
 */
import fs from 'node:fs/promises';
import type { MediumInfo } from '../../api/storage.js';
import type { Library } from '../library/library.js';
import type { ImageUser } from './image-users.js';
import { scanLibrary } from './image-users.js';

export type { MediumInfo };

export async function listMedia(library: Library): Promise<MediumInfo[]> {
  const scan = await scanLibrary(library);
  const media = new Map<string, MediumInfo>();
  const addUser = (medium: MediumInfo, user: ImageUser): void => {
    const same = medium.users.some(
      (u) => u.uuid === user.uuid && u.device === user.device && u.use === user.use && u.snapshot === user.snapshot,
    );
    if (!same) medium.users.push(user);
  };
  for (const entry of scan.chains) {
    if (entry.error !== undefined) continue;
    const base = { uuid: entry.uuid, name: entry.name, device: entry.device };
    entry.chain.forEach((image, i) => {
      let medium = media.get(image.file);
      if (!medium) {
        medium = {
          file: image.file,
          kind: 'disk',
          format: image.format,
          virtualSize: image.virtualSize,
          actualSize: image.actualSize,
          backingFile: image.backingPath ?? null,
          backingChain: entry.chain.slice(i + 1).map((b) => b.file),
          users: [],
        };
        media.set(image.file, medium);
      }
      const use = entry.snapshot !== undefined ? 'snapshot' : i === 0 ? 'disk' : 'backing';
      addUser(medium, { ...base, use, ...(entry.snapshot !== undefined ? { snapshot: entry.snapshot } : {}) });
    });
  }
  for (const entry of scan.chains.filter((c) => c.error !== undefined)) {
    if (media.has(entry.file)) continue;
    media.set(entry.file, {
      file: entry.file,
      kind: 'disk',
      format: 'unknown',
      virtualSize: 0,
      actualSize: 0,
      backingFile: null,
      backingChain: [],
      users: [{ uuid: entry.uuid, name: entry.name, device: entry.device, use: entry.snapshot !== undefined ? 'snapshot' : 'disk' }],
      error: entry.error ?? 'unreadable',
    });
  }
  for (const iso of scan.isos) {
    let medium = media.get(iso.file);
    if (!medium) {
      const stat = await fs.stat(iso.file).catch(() => null);
      medium = {
        file: iso.file,
        kind: 'iso',
        format: 'iso',
        virtualSize: stat?.size ?? 0,
        actualSize: stat ? stat.blocks * 512 : 0,
        backingFile: null,
        backingChain: [],
        users: [],
        ...(stat ? {} : { error: 'The ISO image does not exist' }),
      };
      media.set(iso.file, medium);
    }
    addUser(medium, { uuid: iso.uuid, name: iso.name, device: 'cdrom', use: 'cdrom' });
  }
  return [...media.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.file.localeCompare(b.file));
}
