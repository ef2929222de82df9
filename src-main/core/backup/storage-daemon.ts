/**
 * A stopped machine's disks opened in qemu-storage-daemon (QEMU's block layer with a QMP monitor and
 * no guest), so that its backups run the very same QMP jobs and keep the very same persistent
 * bitmaps as a running machine's: qemu-img has no backup job and cannot copy only what a bitmap
 * marks. The caller holds the machine's lock, so the machine cannot start meanwhile; QEMU's image
 * locking would refuse it anyway.
 *
 * An encrypted machine's daemon gets the passphrase as QEMU gets it at a start (a secret object read
 * from a FIFO, see secret-fifo.ts): it then opens the encrypted disks, every layer under them named
 * with the key, and writes the encrypted backup images itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import { imageNode, type BackingLayer } from '../qemu/qemu-args.js';
import { QmpClient } from '../qemu/qmp-client.js';
import { secretObject, withSecretFifo } from '../storage/secret-fifo.js';
import type { QmpExec } from './block-jobs.js';

const BINARIES = ['/usr/bin/qemu-storage-daemon', '/usr/local/bin/qemu-storage-daemon'];

export interface StorageDaemon {
  qmp: QmpExec;
  /** Closes the images (persistent bitmaps are written then) and ends the daemon. */
  close(): Promise<void>;
}

async function findBinary(): Promise<string> {
  for (const b of BINARIES)
    if (
      await fs.access(b).then(
        () => true,
        () => false,
      )
    )
      return b;
  throw new VmdeskError(
    'HOST_UNSUPPORTED',
    'Backing up a stopped machine needs qemu-storage-daemon: run `sudo apt-get install qemu-system-common`',
  );
}

/** An image to open: its node name, file, and for an encrypted one the layers under it (QEMU gives a backing file no key). */
export interface DaemonImage {
  node: string;
  file: string;
  encrypted: boolean;
  below: BackingLayer[];
}

export async function openStorageDaemon(images: DaemonImage[], passphrase?: string): Promise<StorageDaemon> {
  const binary = await findBinary();
  const daemon =
    passphrase === undefined
      ? await launch(binary, [])
      : // The daemon reads the FIFO as it starts, before its monitor answers: launch returns after that.
        await withSecretFifo(passphrase, (fifo) => launch(binary, ['--object', secretObject(fifo)]));
  try {
    // Options as JSON objects, never as a string of QEMU options: a path needs no escaping.
    for (const img of images)
      await daemon.qmp('blockdev-add', { 'node-name': img.node, ...imageNode('qcow2', img.file, undefined, img.encrypted, img.below) });
  } catch (err) {
    await daemon.close();
    throw err;
  }
  return daemon;
}

async function launch(binary: string, secret: string[]): Promise<StorageDaemon> {
  // A short private folder: unix socket paths are limited to ~107 bytes.
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vmdesk-qsd-'));
  const socket = path.join(dir, 'qmp.sock');
  const child: ChildProcess = spawn(
    binary,
    [...secret, '--chardev', `socket,id=m0,path=${socket},server=on,wait=off`, '--monitor', 'chardev=m0'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const cleanup = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await fs.rm(dir, { recursive: true, force: true });
  };
  let client: QmpClient;
  try {
    client = await QmpClient.connect(socket, { timeoutMs: 30_000, retryUntil: Date.now() + 10_000 });
  } catch (err) {
    await cleanup();
    throw new VmdeskError('QEMU_FAILED', `qemu-storage-daemon did not start: ${stderr.trim() || (err as Error).message}`);
  }
  const qmp: QmpExec = (command, args) => client.execute(command, args, { timeoutMs: 60_000 });
  const close = async (): Promise<void> => {
    await qmp('quit').catch(() => undefined);
    client.close();
    await cleanup();
  };
  return { qmp, close };
}
