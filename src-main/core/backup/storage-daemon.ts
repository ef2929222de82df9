/**
 * A stopped machine's disks opened in qemu-storage-daemon (QEMU's block layer with a QMP monitor and
 * no guest), so that its backups run the very same QMP jobs and keep the very same persistent
 * bitmaps as a running machine's: qemu-img has no backup job and cannot copy only what a bitmap
 * marks. The caller holds the machine's lock, so the machine cannot start meanwhile; QEMU's image
 * locking would refuse it anyway.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import { QmpClient } from '../qemu/qmp-client.js';
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

export async function openStorageDaemon(images: Array<{ node: string; file: string }>): Promise<StorageDaemon> {
  const binary = await findBinary();
  // A short private folder: unix socket paths are limited to ~107 bytes.
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vmdesk-qsd-'));
  const socket = path.join(dir, 'qmp.sock');
  const child: ChildProcess = spawn(binary, ['--chardev', `socket,id=m0,path=${socket},server=on,wait=off`, '--monitor', 'chardev=m0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
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
  try {
    // Options as JSON objects, never as a string of QEMU options: a path needs no escaping.
    for (const img of images)
      await qmp('blockdev-add', { driver: 'qcow2', 'node-name': img.node, file: { driver: 'file', filename: img.file } });
  } catch (err) {
    await close();
    throw err;
  }
  return { qmp, close };
}
