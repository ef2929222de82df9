/**
 * snapshots.json (the snapshot tree of one machine) and saved-state.json (a machine suspended to
 * disk). Both live beside machine.json but apart from it, so a Settings edit and a snapshot
 * operation never rewrite each other's file; both are written atomically with a backup.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { VmdeskError } from '../../api/errors.js';
import { machineConfigSchema, type MachineConfig } from '../../api/machine-config.js';
import { parseInput } from '../../api/validation.js';
import { writeJsonAtomic } from '../fs/atomic-file.js';
import { SAVED_STATE_FILE, SNAPSHOTS_DIR, SNAPSHOTS_FILE, SNAPSHOTS_FILE_BACKUP } from '../paths.js';

export const SNAPSHOTS_VERSION = 1;

/** Machine-relative paths made by VMDesk itself: `snapshots/<uuid>.<ext>`, never a user string. */
const ownFile = z.string().regex(/^snapshots\/[0-9a-f-]{36}\.(qcow2|vmstate|nvram)$/, 'not a snapshot file');
const diskFile = z.string().min(1).max(4096);

export const snapshotRecordSchema = z.object({
  id: z.uuid(),
  name: z.string().min(1).max(256),
  description: z.string().max(4000),
  createdAt: z.iso.datetime(),
  parentId: z.uuid().nullable(),
  kind: z.enum(['live', 'disk']),
  /** The frozen image of each snapshotted disk (machine-relative). */
  disks: z.array(z.object({ id: z.string(), file: diskFile })),
  vmstate: ownFile.optional(),
  nvram: ownFile.optional(),
  config: machineConfigSchema,
  /** Taken by the scheduler for this slot (see core/schedule): only these are ever pruned. */
  scheduled: z.object({ slot: z.iso.datetime() }).optional(),
});
export type SnapshotRecord = z.infer<typeof snapshotRecordSchema>;

export const snapshotsFileSchema = z.object({
  version: z.literal(SNAPSHOTS_VERSION),
  currentId: z.uuid().nullable(),
  snapshots: z.array(snapshotRecordSchema),
});
export type SnapshotsFile = z.infer<typeof snapshotsFileSchema>;

export const savedStateSchema = z.object({
  version: z.literal(1),
  /** RAM and device state (machine-relative). */
  file: ownFile,
  /** 'machine': made by save-state, deleted once resumed; 'snapshot': a live snapshot's, kept. */
  owner: z.enum(['machine', 'snapshot']),
  createdAt: z.iso.datetime(),
  /** The hardware the state was saved with: QEMU can only load it into the same devices. */
  hardware: z.string(),
});
export type SavedState = z.infer<typeof savedStateSchema>;

export function emptySnapshots(): SnapshotsFile {
  return { version: SNAPSHOTS_VERSION, currentId: null, snapshots: [] };
}

function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new VmdeskError('IO', `Cannot read ${file}: ${(err as Error).message}`);
  }
}

export function loadSnapshots(dir: string): SnapshotsFile {
  const file = path.join(dir, SNAPSHOTS_FILE);
  const raw = readJsonFile(file);
  if (raw === undefined) return emptySnapshots();
  return parseInput(snapshotsFileSchema, raw, `snapshot list ${file}`);
}

export async function saveSnapshots(dir: string, data: SnapshotsFile): Promise<void> {
  const valid = parseInput(snapshotsFileSchema, data, 'snapshot list');
  await writeJsonAtomic(path.join(dir, SNAPSHOTS_FILE), valid, path.join(dir, SNAPSHOTS_FILE_BACKUP));
}

export function loadSavedState(dir: string): SavedState | null {
  const file = path.join(dir, SAVED_STATE_FILE);
  const raw = readJsonFile(file);
  if (raw === undefined) return null;
  return parseInput(savedStateSchema, raw, `saved state ${file}`);
}

/** Cheap enough for `vmdesk list` over hundreds of machines. */
export function hasSavedState(dir: string): boolean {
  return fs.existsSync(path.join(dir, SAVED_STATE_FILE));
}

export async function writeSavedState(dir: string, state: SavedState): Promise<void> {
  await writeJsonAtomic(path.join(dir, SAVED_STATE_FILE), parseInput(savedStateSchema, state, 'saved state'));
}

export async function removeSavedStateRecord(dir: string): Promise<void> {
  await fs.promises.rm(path.join(dir, SAVED_STATE_FILE), { force: true });
}

/** A new machine-relative file name in the snapshots folder. */
export function newOwnFile(id: string, ext: 'qcow2' | 'vmstate' | 'nvram'): string {
  return `${SNAPSHOTS_DIR}/${id}.${ext}`;
}

/**
 * What QEMU needs unchanged to load a saved RAM state: the devices (not names, notes or boot files).
 * Compared at start so a state saved with other hardware fails with a clear message, not a QEMU error.
 */
export function hardwareDigest(config: MachineConfig): string {
  return JSON.stringify({
    cpus: config.cpus,
    memoryMiB: config.memoryMiB,
    firmware: config.firmware,
    disks: config.disks.map((d) => ({ id: d.id, bus: d.bus, file: d.file, format: d.format, readOnly: d.readOnly })),
    cdrom: config.cdrom !== null,
    nics: config.nics.map((n) => ({ id: n.id, model: n.model, mac: n.mac, attachment: n.attachment.type })),
    display: config.display.adapter,
    serial: config.serial.enabled,
  });
}

export function findSnapshot(data: SnapshotsFile, ref: string): SnapshotRecord {
  const match = data.snapshots.find((s) => s.id === ref) ?? data.snapshots.find((s) => s.name === ref);
  if (!match) throw new VmdeskError('NOT_FOUND', `No snapshot named "${ref}"`);
  return match;
}
