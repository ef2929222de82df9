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
  // A whole file is opened as it is. A tar member is a window of the archive: QEMU wants its size
  // in whole sectors, and tar pads every member with zeros to 512 bytes, so rounding up reads padding.
  const whole = range.offset === 0 && !range.device;
  const file = whole ? protocol : { driver: 'raw', offset: range.offset, size: Math.ceil(range.size / 512) * 512, file: protocol };
  const top = format === 'raw' ? { driver: 'raw', 'read-only': true, file } : { driver: format, 'read-only': true, file };
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

async function readAt(range: ImageRange, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  if (position < 0 || position + length > range.size) return buf;
  const handle = await fs.open(range.path, 'r');
  try {
    await handle.read(buf, 0, length, range.offset + position);
  } finally {
    await handle.close();
  }
  return buf;
}

/**
 * The image's own header, read before qemu-img opens it: opening already follows references (a
 * vmdk text descriptor's extents, a qcow2 external data file), and a reference to a FIFO or a
 * device could hang or read the host. Only self-contained binary images get to qemu-img.
 */
export async function requireSafeHeader(range: ImageRange, format: string, what: string): Promise<void> {
  const head = await readAt(range, 0, 512);
  const refuse = (why: string): never => {
    throw new VmdeskError('INVALID_INPUT', `${what} ${why}: refused`);
  };
  switch (format) {
    case 'vmdk':
      if (head.toString('latin1', 0, 4) !== 'KDMV') refuse('is not a sparse or streamOptimized vmdk (a descriptor refers to other files)');
      break;
    case 'qcow2': {
      if (head.readUInt32BE(0) !== 0x514649fb) refuse('is not a qcow2 image');
      if (head.readBigUInt64BE(8) !== 0n) refuse('refers to a backing file');
      if (head.readUInt32BE(4) >= 3 && (head.readBigUInt64BE(72) & 4n) !== 0n) refuse('keeps its data in an external file');
      break;
    }
    case 'vdi':
      if (head.readUInt32LE(64) !== 0xbeda107f) refuse('is not a vdi image');
      if (head.readUInt32LE(76) === 4) refuse('is a differencing vdi that refers to a parent image');
      break;
    case 'vpc': {
      const footer = head.toString('latin1', 0, 8) === 'conectix' ? head : await readAt(range, range.size - 512, 512);
      if (footer.toString('latin1', 0, 8) !== 'conectix') refuse('is not a vhd image');
      if (footer.readUInt32BE(60) === 4) refuse('is a differencing vhd that refers to a parent image');
      break;
    }
    case 'raw':
      break;
    default:
      refuse(`has an unsupported format (${format})`);
  }
}

export async function rangeInfo(range: ImageRange, format: string, what: string): Promise<RangeInfo> {
  await requireSafeHeader(range, format, what);
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
  // Tools round capacities (to sectors, to their units): only an image bigger than declared lies.
  const MiB = 1024 * 1024;
  if (declaredBytes !== null && declaredBytes > 0 && info.virtualSize > Math.ceil(declaredBytes / MiB) * MiB) {
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
