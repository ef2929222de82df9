/**
 * A chain's images read back from the backup folder: outside input. Each is a plain file of the
 * chain's folder (no link), with the checksum the manifest recorded, a qcow2 whose only reference is
 * the previous point's image of the same disk (relative, inside the chain), and QEMU is then given
 * the chain explicitly (`backing` spelled out, down to `null`): it never follows a name of its own.
 *
 * An encrypted image cannot be opened by qemu-img without the key (and foreign-image.ts refuses
 * encryption): its header is read by VMDesk alone, which must find LUKS encryption, no data file,
 * nothing unknown, and as its only name the previous point's image.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import { runQemuImg } from '../qemu/qemu-img-run.js';
import { LUKS_ENCRYPT, secretObject, withSecretFifo } from '../storage/secret-fifo.js';
import { fileReader, inspectForeignImage, requireSaneSize } from '../storage/foreign-image.js';
import { readQcow2Header } from '../storage/image-header.js';
import { sha256File, type PointDisk, type PointRecord } from './manifest.js';

const LUKS = 2;

/** The image of disk `id` in each point of `chain` (oldest first), as absolute paths. */
export function chainFiles(chainDir: string, chain: PointRecord[], id: string): string[] {
  return chain.map((p) => {
    const disk = p.disks.find((d) => d.id === id);
    if (!disk) throw new VmdeskError('INVALID_INPUT', `Point ${p.point} of the backup chain has no image of disk ${id}`);
    return path.join(chainDir, p.folder, disk.file);
  });
}

/** Checks one image (the last of `files`) against the manifest and its links; returns what is wrong. */
export async function checkPointImage(
  files: string[],
  expected: Pick<PointDisk, 'sha256' | 'bytes' | 'encrypted'>,
  deep: boolean,
): Promise<string[]> {
  const file = files.at(-1) as string;
  const stat = await fs.lstat(file).catch(() => null);
  if (!stat) return [`${file} is missing`];
  if (!stat.isFile()) return [`${file} is not a plain file`];
  const problems: string[] = [];
  if (stat.size !== expected.bytes) problems.push(`${file} is ${stat.size} bytes, the manifest says ${expected.bytes}`);
  if (deep && (await sha256File(file)) !== expected.sha256) problems.push(`${file} does not match its checksum`);
  if (expected.encrypted === true) return [...problems, ...(await encryptedHeaderProblems(files, stat.size))];
  try {
    const image = await inspectForeignImage(file, { what: 'backup image', format: 'qcow2', trustedBacking: files.slice(0, -1) });
    const links = image.backing.map((b) => b.file).join(' → ');
    const want = files.slice(0, -1).reverse().join(' → ');
    if (links !== want) problems.push(`${file} reads from ${links || 'no backing file'}, the chain wants ${want || 'none'}`);
  } catch (err) {
    problems.push((err as Error).message);
  }
  return problems;
}

async function encryptedHeaderProblems(files: string[], size: number): Promise<string[]> {
  const file = files.at(-1) as string;
  const handle = await fs.open(file, 'r');
  try {
    const h = await readQcow2Header(fileReader(handle, size));
    if (!h) return [`${file} is not a qcow2 image`];
    const problems: string[] = [];
    if (h.cryptMethod !== LUKS) problems.push(`${file} is not LUKS-encrypted, as the manifest says it is`);
    if (h.dataFile !== null || h.unknownIncompatible !== 0n || h.corrupt)
      problems.push(`${file} has qcow2 features a backup image never has`);
    const previous = files.at(-2);
    const links = h.backingName === null ? null : path.resolve(path.dirname(file), h.backingName);
    if (links !== (previous ?? null) || (previous !== undefined && h.backingFormat !== 'qcow2'))
      problems.push(`${file} reads from ${h.backingName ?? 'no backing file'}, the chain wants ${previous ?? 'none'}`);
    try {
      requireSaneSize(Number(h.virtualSize), file);
    } catch (err) {
      problems.push((err as Error).message);
    }
    return problems;
  } finally {
    await handle.close();
  }
}

/** The chain as one QEMU block graph, every backing given: `json:` needs no option escaping. */
export function chainSpec(files: string[], encrypted = false): string {
  let spec: Record<string, unknown> | null = null;
  for (const file of files)
    spec = { driver: 'qcow2', file: { driver: 'file', filename: file }, ...(encrypted ? { encrypt: LUKS_ENCRYPT } : {}), backing: spec };
  return `json:${JSON.stringify(spec)}`;
}

/** `qemu-img check` of one image on its own (its backing not opened); an encrypted one with `passphrase`. */
export async function qemuCheck(file: string, passphrase: string | null = null): Promise<string | null> {
  const r =
    passphrase === null
      ? await runQemuImg(['check', '-q', '-U', chainSpec([file])], { bounded: true })
      : await withSecretFifo(passphrase, (key) =>
          runQemuImg(['check', '-q', '-U', '--object', secretObject(key), chainSpec([file], true)], { bounded: true }),
        );
  return r.code === 0 || r.code === 3
    ? null
    : `qemu-img check ${file}: ${r.stderr.trim().split('\n').slice(-2).join('; ') || `exit ${r.code}`}`;
}
