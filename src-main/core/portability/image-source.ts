/**
 * Disk images as qemu-img sees them here: a byte range of a file (a disk inside an OVA, read in
 * place through a `raw` node with offset and size) or a whole file or block device, always with an
 * explicit format driver (never probed) and opened read-only. Specs are `json:` file names built
 * with JSON.stringify and passed in an argv array, so a path can never inject an option.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import { VmdeskError } from '../../api/errors.js';
import { createProgressParser, qemuImgBinary } from '../qemu/qemu-img.js';

/** The largest disk VMDesk accepts (the create schema's limit). */
export const MAX_VIRTUAL_BYTES = 64 * 1024 ** 4;
const KILL_GRACE_MS = 2_000;

export interface ImageRange {
  path: string;
  offset: number;
  size: number;
  /** The path is a block device (host_device driver). */
  device?: boolean;
}

export function imageSpec(range: ImageRange, format: string): string {
  const protocol = { driver: range.device ? 'host_device' : 'file', filename: range.path };
  const file =
    range.offset === 0 && !range.device
      ? { driver: 'raw', size: range.size, file: protocol }
      : { driver: 'raw', offset: range.offset, size: range.size, file: protocol };
  const top = format === 'raw' ? { ...file, 'read-only': true } : { driver: format, 'read-only': true, file };
  return `json:${JSON.stringify(top)}`;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? null;

/**
 * A copy must stop when the process that started it dies (a killed CLI or app): otherwise an
 * orphaned qemu-img keeps writing into a folder that is about to be swept. util-linux's setpriv
 * sets the parent-death signal (prctl PR_SET_PDEATHSIG) before it executes qemu-img.
 */
export function withParentDeathSignal(command: string, args: string[]): [string, string[]] {
  return SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args]] : [command, args];
}

/** Run qemu-img; with onProgress, `-p` output is parsed. A cancel kills it (TERM, then KILL). */
export function runQemuImg(args: string[], opts: RunOptions = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new VmdeskError('CANCELLED', 'Cancelled'));
      return;
    }
    const [command, argv] = withParentDeathSignal(qemuImgBinary(), args);
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const parse = createProgressParser();
    let stdout = '';
    let stderr = '';
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      aborted = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (opts.onProgress) {
        const f = parse(chunk);
        if (f !== null) opts.onProgress(f);
      } else stdout += chunk;
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err: NodeJS.ErrnoException) => {
      opts.signal?.removeEventListener('abort', onAbort);
      reject(
        err.code === 'ENOENT'
          ? new VmdeskError('HOST_UNSUPPORTED', 'qemu-img is not installed: run `sudo apt-get install qemu-utils`')
          : err,
      );
    });
    child.on('close', (code) => {
      clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (aborted) reject(new VmdeskError('CANCELLED', 'Cancelled'));
      else resolve({ code, stdout, stderr });
    });
  });
}

function summary(stderr: string): string {
  const t = stderr.trim().replace(/^qemu-img: /gm, '');
  return t.length > 600 ? `${t.slice(0, 600)}…` : t;
}

/** A qemu-img failure as a VmdeskError; a full disk is an IO error that says so. */
export function qemuImgError(action: string, r: Run): VmdeskError {
  const why = summary(r.stderr) || `qemu-img exited with code ${String(r.code)}`;
  if (/No space left on device/i.test(r.stderr))
    return new VmdeskError('IO', `Cannot ${action}: no space left on the target's disk (${why})`);
  return new VmdeskError('QEMU_FAILED', `Cannot ${action}: ${why}`);
}

export interface RangeInfo {
  format: string;
  virtualSize: number;
  backing: string | null;
  createType: string | null;
  extents: number;
  dataFile: string | null;
}

export async function rangeInfo(range: ImageRange, format: string, what: string): Promise<RangeInfo> {
  const r = await runQemuImg(['info', '--output=json', '-U', imageSpec(range, format)]);
  if (r.code !== 0) throw new VmdeskError('INVALID_INPUT', `${what} is not a readable ${format} image: ${summary(r.stderr)}`);
  const raw = JSON.parse(r.stdout) as Record<string, unknown>;
  const specific = (raw['format-specific'] as { data?: Record<string, unknown> } | undefined)?.data ?? {};
  const backing = raw['backing-filename'] ?? raw['full-backing-filename'];
  return {
    format: String(raw.format),
    virtualSize: Number(raw['virtual-size']),
    backing: typeof backing === 'string' ? backing : null,
    createType: typeof specific['create-type'] === 'string' ? specific['create-type'] : null,
    extents: Array.isArray(specific.extents) ? specific.extents.length : 0,
    dataFile: typeof specific['data-file'] === 'string' ? specific['data-file'] : null,
  };
}

/**
 * An image from an appliance must be self-contained and tell the truth about its size: no backing
 * file, no external data file, no extra vmdk extents (each could read any host file into the
 * VM), and a virtual size VMDesk accepts and that matches what the descriptor declares.
 */
export function requireSelfContained(info: RangeInfo, what: string, declaredBytes: number | null): void {
  if (info.backing !== null)
    throw new VmdeskError('INVALID_INPUT', `${what} refers to a backing file (${info.backing.slice(0, 120)}): refused`);
  if (info.dataFile !== null) throw new VmdeskError('INVALID_INPUT', `${what} keeps its data in an external file: refused`);
  if (info.format === 'vmdk' && (info.extents !== 1 || !['monolithicSparse', 'streamOptimized'].includes(info.createType ?? ''))) {
    throw new VmdeskError('INVALID_INPUT', `${what} is a ${info.createType ?? 'multi-file'} vmdk that refers to other files: refused`);
  }
  if (!Number.isSafeInteger(info.virtualSize) || info.virtualSize <= 0 || info.virtualSize > MAX_VIRTUAL_BYTES) {
    throw new VmdeskError('INVALID_INPUT', `${what} claims an impossible size of ${info.virtualSize} bytes: refused`);
  }
  if (declaredBytes !== null && declaredBytes > 0 && declaredBytes !== info.virtualSize) {
    throw new VmdeskError(
      'INVALID_INPUT',
      `${what} holds ${info.virtualSize} bytes but the descriptor declares ${declaredBytes}: the image lies about its size, refused`,
    );
  }
}

/** Convert a source spec to a new file; the file is removed unless the conversion completes. */
export async function convertTo(
  source: string,
  target: string,
  targetFormat: string,
  opts: RunOptions & { what: string; extra?: string[] },
): Promise<void> {
  await fs.writeFile(target, '', { flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EEXIST') throw new VmdeskError('ALREADY_EXISTS', `${target} already exists`);
    throw err;
  });
  try {
    const r = await runQemuImg(['convert', '-p', '-O', targetFormat, ...(opts.extra ?? []), source, target], opts);
    if (r.code !== 0) throw qemuImgError(`convert ${opts.what}`, r);
  } catch (err) {
    await fs.rm(target, { force: true });
    throw err;
  }
}
