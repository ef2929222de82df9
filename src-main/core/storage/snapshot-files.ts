/**
 * What storage, clone and move need to know of a machine's snapshots, read from the snapshot
 * metadata (`snapshots.json` in the machine folder, owned by src-main/core/snapshots). Only the
 * fields used here are read, leniently: a machine without snapshots has no such file.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import type { MachineConfig } from '../../api/machine-config.js';
import { resolveMachinePath } from '../qemu/qemu-args.js';

export const SNAPSHOTS_FILE = 'snapshots.json';

export interface SnapshotDiskRef {
  id: string;
  /** Absolute path of the frozen image. */
  file: string;
}

export interface SnapshotRef {
  id: string;
  name: string;
  disks: SnapshotDiskRef[];
  /** The machine configuration when the snapshot was taken, if recorded. */
  config: MachineConfig | null;
  /** Absolute path of the UEFI variables saved with the snapshot, if any. */
  nvram: string | null;
}

interface RawSnapshot {
  id?: unknown;
  name?: unknown;
  disks?: unknown;
  config?: unknown;
  nvram?: unknown;
}

/** Every snapshot of the machine in `dir`, with file paths made absolute; [] when it has none. */
export async function readSnapshots(dir: string): Promise<SnapshotRef[]> {
  let raw: { snapshots?: unknown };
  try {
    raw = JSON.parse(await fs.readFile(path.join(dir, SNAPSHOTS_FILE), 'utf8')) as { snapshots?: unknown };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new VmdeskError('IO', `The snapshot list ${path.join(dir, SNAPSHOTS_FILE)} is unreadable: ${(err as Error).message}`);
  }
  const list = Array.isArray(raw.snapshots) ? (raw.snapshots as RawSnapshot[]) : [];
  return list
    .filter((s) => typeof s.id === 'string')
    .map((s) => ({
      id: String(s.id),
      name: typeof s.name === 'string' ? s.name : String(s.id),
      disks: (Array.isArray(s.disks) ? (s.disks as Array<{ id?: unknown; file?: unknown }>) : [])
        .filter((d) => typeof d.id === 'string' && typeof d.file === 'string')
        .map((d) => ({ id: String(d.id), file: resolveMachinePath(dir, String(d.file)) })),
      config: typeof s.config === 'object' && s.config !== null ? (s.config as MachineConfig) : null,
      nvram: typeof s.nvram === 'string' ? resolveMachinePath(dir, s.nvram) : null,
    }));
}

/** A snapshot by name or id, or a NOT_FOUND error naming the ones there are. */
export async function findSnapshot(dir: string, machineName: string, nameOrId: string): Promise<SnapshotRef> {
  const snapshots = await readSnapshots(dir);
  const match = snapshots.find((s) => s.id === nameOrId) ?? snapshots.find((s) => s.name === nameOrId);
  if (!match) {
    const known = snapshots.map((s) => `"${s.name}"`).join(', ');
    throw new VmdeskError(
      'NOT_FOUND',
      `${machineName} has no snapshot "${nameOrId}"${known ? ` (it has ${known})` : ' (it has no snapshots)'}`,
    );
  }
  return match;
}
