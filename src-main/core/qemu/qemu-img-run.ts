/**
 * One way to run qemu-img as a child process: an argv array (never a shell), tethered to this
 * process (a killed core leaves no copy running), cancellable (TERM, then KILL), with `-p` progress
 * parsed on request. An image from outside is read under resource limits, as OpenStack runs
 * `qemu-img info` under prlimit: a crafted header must not make it eat the host's memory or CPU.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { VmdeskError } from '../../api/errors.js';
import { tethered } from '../storage/tether.js';
import { createProgressParser, qemuImgBinary } from './qemu-img.js';

export interface QemuImgRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
  /** Hostile input: address space, CPU time and wall time bounded. */
  bounded?: boolean;
}

const KILL_GRACE_MS = 2_000;
/** Limits for inspecting a foreign image (OpenStack uses 1 GiB and 30 s for `qemu-img info`). */
export const INSPECT_LIMITS = { addressSpaceBytes: 1024 ** 3, cpuSeconds: 30, wallMs: 60_000 };
const PRLIMIT = ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p)) ?? null;

function bounded(command: string, args: string[]): [string, string[]] {
  if (!PRLIMIT) return [command, args];
  return [PRLIMIT, [`--as=${INSPECT_LIMITS.addressSpaceBytes}`, `--cpu=${INSPECT_LIMITS.cpuSeconds}`, '--', command, ...args]];
}

/** Run qemu-img; with onProgress, `-p` output is parsed. */
export function runQemuImg(args: string[], opts: RunOptions = {}): Promise<QemuImgRun> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new VmdeskError('CANCELLED', 'Cancelled'));
      return;
    }
    const [limited, limitedArgs] = opts.bounded ? bounded(qemuImgBinary(), args) : [qemuImgBinary(), args];
    const [command, argv] = tethered(limited, limitedArgs);
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const parse = createProgressParser();
    let stdout = '';
    let stderr = '';
    let aborted = false;
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (): void => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    };
    const onAbort = (): void => {
      aborted = true;
      stop();
    };
    const wallTimer = opts.bounded
      ? setTimeout(() => {
          timedOut = true;
          stop();
        }, INSPECT_LIMITS.wallMs)
      : undefined;
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (opts.onProgress) {
        const f = parse(chunk);
        if (f !== null) opts.onProgress(f);
      } else if (stdout.length < 16 * 1024 * 1024) stdout += chunk;
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 1024 * 1024) stderr += d.toString();
    });
    const done = (): void => {
      clearTimeout(killTimer);
      clearTimeout(wallTimer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      done();
      reject(
        err.code === 'ENOENT'
          ? new VmdeskError('HOST_UNSUPPORTED', 'qemu-img is not installed: run `sudo apt-get install qemu-utils`')
          : err,
      );
    });
    child.on('close', (code, signal) => {
      done();
      if (aborted) reject(new VmdeskError('CANCELLED', 'Cancelled'));
      else if (timedOut) reject(new VmdeskError('INVALID_INPUT', `qemu-img took longer than ${INSPECT_LIMITS.wallMs / 1000} s on it`));
      else if (opts.bounded && (signal === 'SIGXCPU' || signal === 'SIGKILL' || signal === 'SIGSEGV' || signal === 'SIGABRT'))
        reject(new VmdeskError('INVALID_INPUT', `qemu-img exceeded its memory or CPU limit reading it (${signal})`));
      else resolve({ code, stdout, stderr });
    });
  });
}

function summary(stderr: string): string {
  const t = stderr.trim().replace(/^qemu-img: /gm, '');
  return t.length > 600 ? `${t.slice(0, 600)}…` : t;
}

/**
 * A qemu-img failure as a VmdeskError: a full disk is an IO error that says so, an image another
 * process holds (QEMU's image locking) is LOCKED.
 */
export function qemuImgError(action: string, r: QemuImgRun): VmdeskError {
  const why = summary(r.stderr) || `qemu-img exited with code ${String(r.code)}`;
  if (/No space left on device/i.test(r.stderr))
    return new VmdeskError('IO', `Cannot ${action}: no space left on the target's disk (${why})`);
  if (/Failed to get "\w+" lock/.test(r.stderr)) return new VmdeskError('LOCKED', `Cannot ${action}: ${why}`);
  return new VmdeskError('QEMU_FAILED', `Cannot ${action}: ${why}`);
}

/** qemu-img's own words, for a message. */
export function qemuImgSummary(r: QemuImgRun): string {
  return summary(r.stderr);
}
