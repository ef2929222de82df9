/**
 * How a disk passphrase reaches QEMU and qemu-img: through a pipe, never an argument, an environment
 * variable or a file. QEMU reads a secret object only from a file name (`-object secret,file=…`, which
 * it reads whole), and Node's stdio pipes are socket pairs, which `/dev/fd/N` cannot reopen (ENXIO).
 * So the reader gets the name of a FIFO made for it in a private (0700) folder: the passphrase is
 * written into the FIFO once the reader has it open, and the FIFO's name is removed at that moment.
 * What is on the command line is that name, not the passphrase.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';

/** The id of the secret object every encrypted image's `encrypt.key-secret` names. */
export const SECRET_ID = 'vmdesk-key';

/** The `encrypt` options of an encrypted qcow2 image, as QMP and `-blockdev` take them. */
export const LUKS_ENCRYPT = { format: 'luks', 'key-secret': SECRET_ID } as const;

/**
 * How long, in ms, the key derivation of a new LUKS header is made to take, which is then what each
 * unlock of it costs: QEMU's 2000 ms unless VMDESK_TEST_LUKS_ITER_TIME_MS says otherwise. Only the
 * tests set it (a weaker key, to unlock dozens of images in seconds rather than minutes).
 */
export function luksIterTimeMs(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const ms = Number(env.VMDESK_TEST_LUKS_ITER_TIME_MS);
  return Number.isInteger(ms) && ms > 0 ? ms : undefined;
}

/** LUKS_ENCRYPT for a header to create (blockdev-create), with the iteration time. */
export function luksCreateOptions(): Record<string, unknown> {
  const iterTime = luksIterTimeMs();
  return { ...LUKS_ENCRYPT, ...(iterTime ? { 'iter-time': iterTime } : {}) };
}

const FEED_POLL_MS = 5;
const FEED_TIMEOUT_MS = 60_000;

/** `-object` value of the secret read from `file` (a FIFO); the name's commas doubled for QEMU's option syntax. */
export function secretObject(file: string): string {
  return `secret,id=${SECRET_ID},file=${file.replaceAll(',', ',,')}`;
}

/** A FIFO only this user can open, in place of any file left there. */
export function makeSecretFifo(file: string): void {
  fs.rmSync(file, { force: true });
  execFileSync('mkfifo', ['-m', '600', file]);
}

/**
 * Writes `secret` into the FIFO once a reader has opened it, then removes its name; gives up when
 * `gaveUp()` says the reader is gone (it failed before reading) or after a minute.
 */
export async function feedSecret(file: string, secret: string, gaveUp: () => boolean): Promise<void> {
  const deadline = Date.now() + FEED_TIMEOUT_MS;
  try {
    for (;;) {
      let fd: number;
      try {
        // Non-blocking: ENXIO while nobody reads it yet, instead of a thread stuck in open().
        fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENXIO' || gaveUp() || Date.now() > deadline) return;
        await new Promise((r) => setTimeout(r, FEED_POLL_MS));
        continue;
      }
      try {
        fs.writeSync(fd, secret);
      } finally {
        fs.closeSync(fd);
      }
      return;
    }
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/**
 * Runs `use` with the name of a FIFO that gives `secret` to the first process opening it (qemu-img
 * with `--object secret,…`); the FIFO and its folder are gone when it settles.
 */
export async function withSecretFifo<T>(secret: string, use: (file: string) => Promise<T>): Promise<T> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'vmdesk-key-'));
  try {
    const file = path.join(dir, 'key.fifo');
    makeSecretFifo(file);
    let settled = false;
    const feeding = feedSecret(file, secret, () => settled);
    try {
      return await use(file);
    } finally {
      settled = true;
      await feeding;
    }
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

/** The whole of what the parent wrote on inherited descriptor `fd` (a socket pair) before closing it. */
export function readSecretFd(fd: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new net.Socket({ fd, readable: true, writable: false });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > PASSPHRASE_READ_MAX) socket.destroy(new VmdeskError('INVALID_INPUT', 'The passphrase is too long'));
    });
    socket.once('end', () => {
      socket.destroy();
      resolve(text);
    });
    socket.once('error', reject);
  });
}

const PASSPHRASE_READ_MAX = 4096;
