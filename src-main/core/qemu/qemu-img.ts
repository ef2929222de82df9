/**
 * `qemu-img` for disk images: info, create, check, convert (with progress and cancel), resize.
 * Always run with an argv array, never a shell. File names are made absolute before they reach
 * qemu-img, because a relative name such as `nbd:host:10809` or `json:{...}` would be read as a
 * protocol instead of a file.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import { syncDir, syncFile } from '../fs/atomic-file.js';
import { tethered } from '../storage/tether.js';

export type CreateFormat = 'qcow2' | 'raw';

export interface ImageInfo {
  format: string;
  virtualSize: number;
  actualSize: number;
  backingFile?: string;
  dirty?: boolean;
}

export interface CheckResult {
  /** false when the format has no consistency check (raw, vmdk...). */
  supported: boolean;
  /** Leaked clusters waste space but lose no data: reported, not an error. */
  leaks: number;
}

export interface ConvertOptions {
  onProgress?(fraction: number): void;
  signal?: AbortSignal;
}

/** The qemu-img binary: `VMDESK_QEMU_IMG` when set, else `qemu-img` from PATH. */
export function qemuImgBinary(env: NodeJS.ProcessEnv = process.env): string {
  return env.VMDESK_QEMU_IMG || 'qemu-img';
}

const MAX_STDERR_IN_MESSAGE = 1_000;
/** What qemu-img says when QEMU's image locking refuses it: `Failed to get "write" lock`. */
const LOCK_ERROR = /Failed to get "\w+" lock/;
const KILL_GRACE_MS = 2_000;

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(qemuImgBinary(), args, { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT' && stdout === '' && stderr === '') {
        reject(missingQemuImg());
        return;
      }
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function missingQemuImg(): VmdeskError {
  return new VmdeskError('HOST_UNSUPPORTED', 'qemu-img is not installed: run `sudo apt-get install qemu-utils`');
}

/** qemu-img's own words, trimmed: check can print thousands of lines. */
function stderrSummary(stderr: string): string {
  const text = stderr.trim().replace(/^qemu-img: /gm, '');
  return text.length > MAX_STDERR_IN_MESSAGE ? `${text.slice(0, MAX_STDERR_IN_MESSAGE)}…` : text;
}

function failure(action: string, file: string, r: RunResult, fallback: 'QEMU_FAILED' | 'INVALID_INPUT' = 'QEMU_FAILED'): VmdeskError {
  const why = stderrSummary(r.stderr) || `qemu-img exited with code ${String(r.code)}`;
  const code = LOCK_ERROR.test(r.stderr) ? 'LOCKED' : fallback;
  return new VmdeskError(code, `Cannot ${action} ${file}: ${why}`, { exitCode: r.code, stderr: stderrSummary(r.stderr) });
}

async function requireFile(file: string): Promise<string> {
  const abs = path.resolve(file);
  const stat = await fs.stat(abs).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new VmdeskError('NOT_FOUND', `Disk image not found: ${abs}`);
    throw err;
  });
  if (stat.isDirectory()) throw new VmdeskError('INVALID_INPUT', `${abs} is a directory, not a disk image`);
  return abs;
}

async function requireAbsent(file: string): Promise<string> {
  const abs = path.resolve(file);
  if (
    await fs.lstat(abs).then(
      () => true,
      () => false,
    )
  )
    throw new VmdeskError('ALREADY_EXISTS', `${abs} already exists`);
  return abs;
}

function requireSize(sizeBytes: number): void {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) {
    throw new VmdeskError('INVALID_INPUT', `A disk size must be a positive whole number of bytes, not ${String(sizeBytes)}`);
  }
}

/**
 * Reads an image's header with its format given: qemu-img never probes (a raw disk whose guest
 * wrote a qcow2 header into it stays raw). `-U` (force-share) works on an image a running QEMU holds.
 * Only for images VMDesk knows the format of; images from outside go through foreign-image.ts.
 */
export async function imageInfo(file: string, format: string): Promise<ImageInfo> {
  const abs = await requireFile(file);
  const r = await run(['info', '--output=json', '-U', '-f', format, abs]);
  if (r.code !== 0) throw failure('read the disk image', abs, r, 'INVALID_INPUT');
  const raw = JSON.parse(r.stdout) as Record<string, unknown>;
  const info: ImageInfo = {
    format: String(raw.format),
    virtualSize: Number(raw['virtual-size']),
    actualSize: Number(raw['actual-size'] ?? 0),
  };
  const backing = raw['full-backing-filename'] ?? raw['backing-filename'];
  if (typeof backing === 'string') info.backingFile = backing;
  if (typeof raw['dirty-flag'] === 'boolean') info.dirty = raw['dirty-flag'];
  return info;
}

export async function createImage(
  file: string,
  format: CreateFormat,
  sizeBytes: number,
  opts: { backingFile?: string; backingFormat?: string } = {},
): Promise<void> {
  requireSize(sizeBytes);
  const abs = await requireAbsent(file);
  const args = ['create', '-q', '-f', format];
  if (opts.backingFile !== undefined) {
    if (format !== 'qcow2') throw new VmdeskError('INVALID_INPUT', 'Only qcow2 images can have a backing file');
    const backing = await requireFile(opts.backingFile);
    if (!opts.backingFormat) throw new VmdeskError('INVALID_INPUT', 'A backing file needs its format: QEMU must never guess it');
    args.push('-b', backing, '-F', opts.backingFormat);
  }
  args.push(abs, String(sizeBytes));
  const r = await run(args);
  if (r.code !== 0) {
    await fs.rm(abs, { force: true });
    throw failure('create', abs, r);
  }
}

/**
 * `qemu-img check`: exit 0 clean, 2 corrupt, 3 leaks only, 1 check failed (often on a badly
 * corrupted image), 63 the format has no check.
 */
export async function checkImage(file: string, format: string): Promise<CheckResult> {
  const abs = await requireFile(file);
  const r = await run(['check', '--output=json', '-U', '-f', format, abs]);
  if (r.code === 63) return { supported: false, leaks: 0 };
  let report: Record<string, unknown> = {};
  try {
    report = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    // no report: the image could not even be opened
  }
  const corruptions = Number(report.corruptions ?? 0);
  const checkErrors = Number(report['check-errors'] ?? 0);
  if (r.code === 0 || r.code === 3) return { supported: true, leaks: Number(report.leaks ?? 0) };
  if (LOCK_ERROR.test(r.stderr)) throw failure('check', abs, r);
  const counts = r.stdout ? ` (${corruptions} corruptions, ${checkErrors} check errors)` : '';
  const why = stderrSummary(r.stderr).split('\n').slice(-3).join('; ');
  throw new VmdeskError('INVALID_INPUT', `${abs} is corrupt${counts}${why ? `: ${why}` : ''}`, {
    corruptions,
    checkErrors,
    exitCode: r.code,
  });
}

export async function convertImage(
  src: string,
  srcFormat: string,
  dst: string,
  dstFormat: string,
  opts: ConvertOptions = {},
): Promise<void> {
  const source = await requireFile(src);
  const target = path.resolve(dst);
  if (opts.signal?.aborted) throw cancelled(target);
  // Claim the destination atomically: only a file we made is ever deleted on failure.
  await fs.writeFile(target, '', { flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EEXIST') throw new VmdeskError('ALREADY_EXISTS', `${target} already exists`);
    throw err;
  });
  try {
    await runConvert(['convert', '-p', '-f', srcFormat, '-O', dstFormat, source, target], target, opts);
    await syncImage(target);
  } catch (err) {
    await fs.rm(target, { force: true });
    throw err;
  }
}

/**
 * qemu-img convert writes with cache=unsafe (its default for convert: no flush at all), so a finished
 * image may sit in the page cache only. One fsync of the file and its folder once it is complete makes
 * it durable before anyone registers it; `-t writeback` would flush too, but also at every qcow2
 * metadata ordering point along the way, which a half-made image (removed anyway) does not need.
 */
export async function syncImage(file: string): Promise<void> {
  await syncFile(file);
  await syncDir(path.dirname(file));
}

function runConvert(args: string[], target: string, opts: ConvertOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    // Tethered: a convert outlives no killed core (it would keep writing and keep the source locked).
    const [command, argv] = tethered(qemuImgBinary(), args);
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const parse = createProgressParser();
    let stderr = '';
    let last = -1;
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const report = (fraction: number): void => {
      if (fraction <= last) return;
      last = fraction;
      opts.onProgress?.(fraction);
    };
    const onAbort = (): void => {
      aborted = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const fraction = parse(chunk);
      if (fraction !== null) report(fraction);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err: NodeJS.ErrnoException) => {
      opts.signal?.removeEventListener('abort', onAbort);
      reject(err.code === 'ENOENT' ? missingQemuImg() : err);
    });
    child.on('close', (code) => {
      clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (aborted) reject(cancelled(target));
      else if (code === 0) {
        report(1);
        resolve();
      } else reject(failure('convert to', target, { code, stdout: '', stderr }));
    });
  });
}

function cancelled(target: string): VmdeskError {
  return new VmdeskError('CANCELLED', `Conversion to ${target} was cancelled`);
}

/**
 * Parses `qemu-img convert -p` output: `    (12.34/100%)\r`, repeated. Returns a function fed with
 * stdout chunks that answers the latest fraction (0..1) seen, or null; a figure split across
 * chunks is kept until its end arrives.
 */
export function createProgressParser(): (chunk: string) => number | null {
  let tail = '';
  const pattern = /\((\d+(?:\.\d+)?)\/100%\)/g;
  return (chunk) => {
    const text = tail + chunk;
    let latest: number | null = null;
    let end = 0;
    for (const m of text.matchAll(pattern)) {
      latest = Math.min(1, Math.max(0, Number(m[1]) / 100));
      end = (m.index ?? 0) + m[0].length;
    }
    tail = text.slice(end).slice(-64);
    return latest;
  };
}

export async function resizeImage(file: string, format: string, sizeBytes: number, opts: { allowShrink?: boolean } = {}): Promise<void> {
  requireSize(sizeBytes);
  const abs = await requireFile(file);
  const { virtualSize } = await imageInfo(abs, format);
  if (sizeBytes < virtualSize && !opts.allowShrink) {
    throw new VmdeskError('INVALID_INPUT', `Shrinking ${path.basename(abs)} from ${virtualSize} to ${sizeBytes} bytes would lose data`);
  }
  const args = ['resize', '-q', '-f', format, ...(sizeBytes < virtualSize ? ['--shrink'] : []), abs, String(sizeBytes)];
  const r = await run(args);
  if (r.code !== 0) throw failure('resize', abs, r);
}

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/**
 * A user's size in bytes: `1024` (bytes), `512M`, `10G`, `20g`, `1.5GiB`, `2T`. Units are binary
 * as in qemu-img (`GB` is read as GiB too); fractions are allowed, the result is whole bytes.
 */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(?:([kmgtp])(?:i?b)?|b)?\s*$/i.exec(text);
  if (!m) {
    throw new VmdeskError('INVALID_INPUT', `"${text}" is not a size: use a number with an optional unit, e.g. 512M, 10G or 1.5GiB`);
  }
  const bytes = Math.floor(Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? 1));
  if (bytes <= 0) throw new VmdeskError('INVALID_INPUT', `A size must be more than zero bytes, not "${text}"`);
  if (!Number.isSafeInteger(bytes)) throw new VmdeskError('INVALID_INPUT', `"${text}" is too large`);
  return bytes;
}
