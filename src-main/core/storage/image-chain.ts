/**
 * Disk images as chains: a top image and the backing files under it (external snapshots and linked
 * clones make chains). Read with `qemu-img info --backing-chain`, `-U` so that images a running
 * QEMU holds can be read too. Also the few qemu-img calls that the storage code needs beyond
 * qemu-img.ts (create on a backing file, unsafe rebase), always with argv arrays.
 */
import path from 'node:path';
import { qemuImgError, runQemuImg } from '../qemu/qemu-img-run.js';

export interface ChainImage {
  /** Absolute, normalized. */
  file: string;
  format: string;
  virtualSize: number;
  actualSize: number;
  /** The backing file as written in the image header (may be relative to the image's folder). */
  backingFile?: string;
  /** Absolute path of the backing file. */
  backingPath?: string;
  /** LUKS-encrypted qcow2: opened only with the machine's key. */
  encrypted: boolean;
}

/**
 * The image and every backing file under it, top first. The top's format is given, never probed:
 * a raw disk whose guest wrote a qcow2 header naming a host file must stay a raw disk, chainless.
 * Lower levels open with the format their image records (VMDesk writes it with every overlay).
 */
export async function backingChain(file: string, format: string): Promise<ChainImage[]> {
  const abs = path.resolve(file);
  const r = await runQemuImg(['info', '--backing-chain', '--output=json', '-U', '-f', format, abs]);
  if (r.code !== 0) throw qemuImgError(`read the disk image ${abs}`, r);
  const raw = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
  return raw.map((img) => {
    const image: ChainImage = {
      file: path.resolve(String(img.filename)),
      format: String(img.format),
      virtualSize: Number(img['virtual-size']),
      actualSize: Number(img['actual-size'] ?? 0),
      encrypted: img.encrypted === true,
    };
    if (typeof img['backing-filename'] === 'string') image.backingFile = img['backing-filename'];
    const full = img['full-backing-filename'];
    if (typeof full === 'string') image.backingPath = path.resolve(full);
    return image;
  });
}

/** A new qcow2 overlay on `backing` (absolute), as big as it: constant time whatever its size. */
export async function createOverlay(file: string, backing: string, backingFormat: string): Promise<void> {
  const r = await runQemuImg(['create', '-q', '-f', 'qcow2', '-b', backing, '-F', backingFormat, path.resolve(file)]);
  if (r.code !== 0) throw qemuImgError(`create the overlay ${file}`, r);
}

/**
 * Rewrite the backing file name in an image header without touching data (`rebase -u`): only for a
 * backing file that holds exactly the same data under its new name.
 */
export async function rewriteBackingFile(file: string, backing: string, backingFormat: string): Promise<void> {
  const r = await runQemuImg(['rebase', '-u', '-f', 'qcow2', '-b', backing, '-F', backingFormat, path.resolve(file)]);
  if (r.code !== 0) throw qemuImgError(`change the backing file of ${file}`, r);
}
