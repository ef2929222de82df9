/**
 * A machine's backup chain in a backup folder, and its manifest:
 *
 *   DIR/<machine-name>-<uuid prefix>/
 *     manifest.json               the points, oldest first (written atomically after each point)
 *     0001-full/<disk>.qcow2      a full point: one self-contained qcow2 per disk
 *     0001-full/machine.json      the machine's configuration at that instant
 *     0002-incremental/<disk>.qcow2   only the clusters changed since point 1; backing file ../0001-full/<disk>.qcow2
 *     files/<sha256>              files the machine keeps in its folder (a kernel, an initrd, UEFI variables), once each
 *
 * An encrypted disk's images are encrypted qcow2 images (LUKS, the machine's passphrase, a header of
 * their own), recorded as such per disk: their checksums and headers are read without the key.
 *
 * A chain read back (to list, verify or restore it) comes from outside: the manifest is parsed with
 * a strict schema, and every name in it must be a plain name of the chain's own folder.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { BACKUP_KINDS, type BackupList } from '../../api/backup.js';
import { VmdeskError } from '../../api/errors.js';
import { parseInput } from '../../api/validation.js';
import { writeJsonAtomic } from '../fs/atomic-file.js';

export const MANIFEST_FILE = 'manifest.json';
export const POINT_CONFIG_FILE = 'machine.json';
export const CHAIN_FILES_DIR = 'files';
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_POINTS = 10_000;

/** A plain file or folder name: no separator, no "..", nothing hidden. */
const plainName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, 'not a plain file name');
const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

const diskSchema = z
  .object({
    id: plainName,
    /** The image's name in the point's folder. */
    file: plainName,
    virtualSize: z.int().nonnegative(),
    bytes: z.int().nonnegative(),
    sha256,
    /** The machine's image the point was read from (its top image then): another one later means a snapshot changed it. */
    source: z.string().max(4096),
    /** A LUKS-encrypted image (the disk was encrypted): it opens with the machine's passphrase. Absent: plain. */
    encrypted: z.literal(true).optional(),
  })
  .strict();

const keptFileSchema = z
  .object({
    /** Where it lives in the machine folder (relative). */
    path: z
      .string()
      .min(1)
      .max(1024)
      .refine(
        (p) => !path.isAbsolute(p) && !p.split('/').some((part) => part === '..' || part === '' || part === '.'),
        'not a plain relative path',
      ),
    sha256,
  })
  .strict();

const pointSchema = z
  .object({
    point: z.int().positive(),
    kind: z.enum(BACKUP_KINDS),
    createdAt: z.string().max(64),
    folder: plainName,
    /** The dirty bitmap (in each disk's image) that tracks writes since this point. */
    bitmap: plainName,
    reason: z.string().max(2000).optional(),
    disks: z.array(diskSchema).max(64),
    files: z.array(keptFileSchema).max(16),
  })
  .strict();
export type PointRecord = z.infer<typeof pointSchema>;
export type PointDisk = z.infer<typeof diskSchema>;
export type KeptFile = z.infer<typeof keptFileSchema>;

const manifestSchema = z
  .object({
    version: z.literal(1),
    machine: z.object({ uuid: z.uuid(), name: z.string().max(256) }).strict(),
    points: z.array(pointSchema).max(MAX_POINTS),
  })
  .strict();
export type Manifest = z.infer<typeof manifestSchema>;

/** The chain's folder name: readable, and unique per machine (two machines may share a name over time). */
export function chainFolderName(name: string, uuid: string): string {
  return `${name.replace(/[^A-Za-z0-9._+-]/g, '_')}-${uuid.slice(0, 8)}`;
}

export function pointFolderName(point: number, kind: PointRecord['kind']): string {
  return `${String(point).padStart(4, '0')}-${kind}`;
}

/** The manifest of a chain folder, or null when the folder has none (no backup yet). */
export async function readManifest(chainDir: string): Promise<Manifest | null> {
  const file = path.join(chainDir, MANIFEST_FILE);
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new VmdeskError('IO', `Cannot read ${file}: ${(err as Error).message}`);
  }
  let text: string;
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size > MAX_MANIFEST_BYTES) throw new VmdeskError('INVALID_INPUT', `${file} is not a backup manifest`);
    text = await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new VmdeskError('INVALID_INPUT', `${file} is not valid JSON`);
  }
  const manifest = parseInput(manifestSchema, raw, `backup manifest ${file}`);
  // Retention drops the oldest points: numbers keep rising, but need not start at 1.
  manifest.points.forEach((p, i) => {
    if (i > 0 && p.point <= (manifest.points[i - 1]?.point ?? 0))
      throw new VmdeskError('INVALID_INPUT', `${file}: point ${p.point} is out of sequence`);
    if (i === 0 && p.kind !== 'full') throw new VmdeskError('INVALID_INPUT', `${file}: the first point is not a full one`);
  });
  return manifest;
}

export async function writeManifest(chainDir: string, manifest: Manifest): Promise<void> {
  await writeJsonAtomic(path.join(chainDir, MANIFEST_FILE), manifest);
}

/** The points a restore of `point` reads, oldest first: back to the last full point. */
export function chainTo(manifest: Manifest, point: number): PointRecord[] {
  const upTo = manifest.points.filter((p) => p.point <= point);
  let start = upTo.length - 1;
  while (start > 0 && upTo[start]?.kind !== 'full') start--;
  return upTo.slice(start);
}

export function findPoint(manifest: Manifest, ref: number | 'latest'): PointRecord {
  const found = ref === 'latest' ? manifest.points.at(-1) : manifest.points.find((p) => p.point === ref);
  if (!found)
    throw new VmdeskError(
      'NOT_FOUND',
      `The backup chain of ${manifest.machine.name} has no point ${ref} (it has ${manifest.points.map((p) => p.point).join(', ') || 'none'})`,
    );
  return found;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function listChain(chainDir: string, manifest: Manifest): BackupList {
  const points = manifest.points.map((p) => ({
    point: p.point,
    kind: p.kind,
    createdAt: p.createdAt,
    bytes: p.disks.reduce((s, d) => s + d.bytes, 0),
    ...(p.reason ? { reason: p.reason } : {}),
    encrypted: p.disks.some((d) => d.encrypted === true),
    disks: p.disks.map((d) => ({
      id: d.id,
      file: path.join(chainDir, p.folder, d.file),
      virtualSize: d.virtualSize,
      bytes: d.bytes,
      encrypted: d.encrypted === true,
    })),
  }));
  return { machine: manifest.machine, dir: chainDir, points, totalBytes: points.reduce((s, p) => s + p.bytes, 0) };
}
