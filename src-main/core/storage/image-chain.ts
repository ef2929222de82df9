/**
 * Disk images as chains: a top image and the backing files under it (external snapshots and linked
 * clones make chains). Read with `qemu-img info --backing-chain`, `-U` so that images a running
 * QEMU holds can be read too. Also the few qemu-img calls that the storage code needs beyond
 * qemu-img.ts (create on a backing file, unsafe rebase), always with argv arrays.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import { qemuImgBinary } from '../qemu/qemu-img.js';

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
}

export interface QemuImgRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runQemuImg(args: string[], options: { signal?: AbortSignal } = {}): Promise<QemuImgRun> {
  return new Promise((resolve, reject) => {
    execFile(
      qemuImgBinary(),
      args,
      { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8', ...(options.signal ? { signal: options.signal } : {}) },
      (err, stdout, stderr) => {
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT' && stdout === '' && stderr === '') {
          reject(new VmdeskError('HOST_UNSUPPORTED', 'qemu-img is not installed: run `sudo apt-get install qemu-utils`'));
          return;
        }
        if (err && err.name === 'AbortError') {
          reject(new VmdeskError('CANCELLED', 'Cancelled'));
          return;
        }
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export function qemuImgFailure(action: string, r: QemuImgRun): VmdeskError {
  const why =
    r.stderr
      .trim()
      .replace(/^qemu-img: /gm, '')
      .slice(0, 1000) || `qemu-img exited with code ${String(r.code)}`;
  const code = /Failed to get "\w+" lock/.test(r.stderr) ? 'LOCKED' : /No space left on device/i.test(r.stderr) ? 'IO' : 'QEMU_FAILED';
  return new VmdeskError(code, `Cannot ${action}: ${why}`);
}

/**
 * The image and every backing file under it, top first. The top's format is given, never probed:
 * a raw disk whose guest wrote a qcow2 header naming a host file must stay a raw disk, chainless.
 * Lower levels open with the format their image records (VMDesk writes it with every overlay).
 */
export async function backingChain(file: string, format: string): Promise<ChainImage[]> {
  const abs = path.resolve(file);
  const r = await runQemuImg(['info', '--backing-chain', '--output=json', '-U', '-f', format, abs]);
  if (r.code !== 0) throw qemuImgFailure(`read the disk image ${abs}`, r);
  const raw = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
  return raw.map((img) => {
    const image: ChainImage = {
      file: path.resolve(String(img.filename)),
      format: String(img.format),
      virtualSize: Number(img['virtual-size']),
      actualSize: Number(img['actual-size'] ?? 0),
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
  if (r.code !== 0) throw qemuImgFailure(`create the overlay ${file}`, r);
}

/**
 * Rewrite the backing file name in an image header without touching data (`rebase -u`): only for a
 * backing file that holds exactly the same data under its new name.
 */
export async function rewriteBackingFile(file: string, backing: string, backingFormat: string): Promise<void> {
  const r = await runQemuImg(['rebase', '-u', '-f', 'qcow2', '-b', backing, '-F', backingFormat, path.resolve(file)]);
  if (r.code !== 0) throw qemuImgFailure(`change the backing file of ${file}`, r);
}
