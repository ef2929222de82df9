/**
 * The qemu-img calls of external snapshots: an empty overlay on a frozen image (backing path
 * written relative, so the machine folder can move), a safe rebase that merges a deleted
 * snapshot's data into its child, and the files of a chain. Always argv arrays, never a shell.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import { createProgressParser, qemuImgBinary } from '../qemu/qemu-img.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], options: { onProgress?(fraction: number): void; signal?: AbortSignal } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(qemuImgBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const parse = createProgressParser();
    let stdout = '';
    let stderr = '';
    let aborted = false;
    const onAbort = (): void => {
      aborted = true;
      child.kill('SIGTERM');
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      const fraction = options.onProgress ? parse(chunk) : null;
      if (fraction !== null) options.onProgress?.(fraction);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err: NodeJS.ErrnoException) => {
      options.signal?.removeEventListener('abort', onAbort);
      reject(
        err.code === 'ENOENT'
          ? new VmdeskError('HOST_UNSUPPORTED', 'qemu-img is not installed: run `sudo apt-get install qemu-utils`')
          : err,
      );
    });
    child.on('close', (code) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (aborted) reject(new VmdeskError('CANCELLED', 'Cancelled'));
      else resolve({ code, stdout, stderr });
    });
  });
}

function failure(action: string, r: Run): VmdeskError {
  const why =
    r.stderr
      .trim()
      .replace(/^qemu-img: /gm, '')
      .slice(0, 1000) || `qemu-img exited with code ${String(r.code)}`;
  const code = /Failed to get "\w+" lock/.test(r.stderr) ? 'LOCKED' : /No space left on device/i.test(r.stderr) ? 'IO' : 'QEMU_FAILED';
  return new VmdeskError(code, `Cannot ${action}: ${why}`);
}

/** The backing path as an overlay at `file` should record it: relative to the overlay's folder. */
export function relativeBacking(file: string, backing: string): string {
  return path.relative(path.dirname(file), backing);
}

export interface ImageHeader {
  virtualSize: number;
  /** Absolute path of the backing file, if any. */
  backing: string | null;
  /** LUKS-encrypted: qemu-img writes it only with the key. */
  encrypted: boolean;
  /**
   * A qcow2 image's persistent dirty bitmaps. `inconsistent`: flagged in-use, as a QEMU that did not
   * close the image leaves them (their marks cannot be trusted).
   */
  bitmaps: Array<{ name: string; inconsistent: boolean }>;
}

interface QcowSpecific {
  data?: { bitmaps?: Array<{ name: string; flags?: string[] }> };
}

/** `-U`: readable while a running QEMU holds the image. The format is given: never probed. */
export async function readHeader(file: string, format: string): Promise<ImageHeader> {
  const r = await run(['info', '--output=json', '-U', '-f', format, path.resolve(file)]);
  if (r.code !== 0) throw failure(`read the disk image ${file}`, r);
  const raw = JSON.parse(r.stdout) as Record<string, unknown>;
  const full = raw['full-backing-filename'] ?? raw['backing-filename'];
  return {
    virtualSize: Number(raw['virtual-size']),
    backing: typeof full === 'string' ? path.resolve(path.dirname(path.resolve(file)), full) : null,
    encrypted: raw.encrypted === true,
    bitmaps: ((raw['format-specific'] as QcowSpecific | undefined)?.data?.bitmaps ?? []).map((b) => ({
      name: b.name,
      inconsistent: b.flags?.includes('in-use') === true,
    })),
  };
}

/** Every file of the chain under (and including) `file`, absolute. */
export async function chainFiles(file: string, format: string): Promise<string[]> {
  const r = await run(['info', '--backing-chain', '--output=json', '-U', '-f', format, path.resolve(file)]);
  if (r.code !== 0) throw failure(`read the disk image ${file}`, r);
  return (JSON.parse(r.stdout) as Array<{ filename: string }>).map((i) => path.resolve(i.filename));
}

/**
 * An empty qcow2 overlay on `backing`, sized like it. With the size given (a running machine's disk,
 * sized by QEMU), `-u` spares opening the backing file, which that QEMU holds.
 */
export async function createOverlay(file: string, backing: string, virtualSize?: number): Promise<void> {
  const abs = path.resolve(file);
  const args = ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', relativeBacking(abs, backing)];
  args.push(...(virtualSize === undefined ? [abs] : ['-u', abs, String(virtualSize)]));
  const r = await run(args);
  if (r.code !== 0) throw failure(`create the overlay ${abs}`, r);
}

/**
 * Safe rebase: after it, `file` shows the same data on `newBacking` (or on nothing) as it did on its
 * old backing, which can then go. qemu-img copies in only the clusters that differ, and writes the
 * new backing name last, so an interrupted rebase leaves the image valid on its old backing.
 */
export async function rebaseImage(
  file: string,
  newBacking: string | null,
  options: { onProgress?(fraction: number): void; signal?: AbortSignal } = {},
): Promise<void> {
  const abs = path.resolve(file);
  const args = ['rebase', '-p', '-f', 'qcow2'];
  if (newBacking) args.push('-F', 'qcow2', '-b', relativeBacking(abs, newBacking));
  else args.push('-b', '');
  args.push(abs);
  const r = await run(args, options);
  if (r.code !== 0) throw failure(`merge snapshot data into ${abs}`, r);
}
