/**
 * Saving a running machine's RAM and device state to a file (QEMU migration to a file).
 *
 * QEMU 7.2 has no `file:` migration URI (8.2 has), and `exec:cat > FILE` both needs the path quoted
 * for a shell and can lose the tail of the stream (QEMU SIGTERMs/SIGKILLs the command 10 ms after
 * closing its pipe). So QEMU migrates to a unix socket in the runtime dir and this process writes
 * what arrives to the file, fsyncs it, and only then reports it complete.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import { pipeline } from 'node:stream/promises';
import { VmdeskError } from '../../api/errors.js';
import type { AgentClient } from '../agent/agent-client.js';

/** Migration speed cap lifted (QEMU's default is 32 MiB/s, meant for live migration over a network). */
const UNLIMITED_BANDWIDTH = 2 ** 40;
const POLL_MS = 10;

interface MigrateInfo {
  status?: string;
  'error-desc'?: string;
  ram?: { transferred?: number; total?: number; remaining?: number };
}

export interface SaveRamOptions {
  onProgress?(fraction: number): void;
  signal?: AbortSignal;
}

/**
 * Migrate the (paused) machine's state into `file`. The guest must be paused by the caller, so RAM
 * and disks stay consistent; when this resolves the file is complete and on disk.
 */
export async function saveRamState(client: AgentClient, socketPath: string, file: string, options: SaveRamOptions = {}): Promise<void> {
  await fsp.rm(socketPath, { force: true });
  const tmp = `${file}.part`;
  const out = fs.createWriteStream(tmp, { flags: 'wx', highWaterMark: 4 * 1024 * 1024 });
  let written: Promise<Error | null> = new Promise(() => undefined);
  let accepted = false;
  const server = net.createServer((socket) => {
    if (accepted) {
      socket.destroy();
      return;
    }
    accepted = true;
    server.close();
    written = pipeline(socket, out).then(
      () => null,
      (err: Error) => err,
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  try {
    await client.request({ op: 'qmp', command: 'migrate-set-parameters', args: { 'max-bandwidth': UNLIMITED_BANDWIDTH } });
    await client.request({ op: 'qmp', command: 'migrate', args: { uri: `unix:${socketPath}` } });
    for (;;) {
      if (options.signal?.aborted) {
        await client.request({ op: 'qmp', command: 'migrate_cancel' }).catch(() => undefined);
        throw new VmdeskError('CANCELLED', 'Saving the machine state was cancelled');
      }
      const info = await client.request<MigrateInfo>({ op: 'qmp', command: 'query-migrate' });
      if (info.status === 'completed') break;
      if (info.status === 'failed' || info.status === 'cancelled') {
        throw new VmdeskError('QEMU_FAILED', `QEMU could not save the machine state: ${info['error-desc'] ?? info.status}`);
      }
      const total = info.ram?.total ?? 0;
      if (total > 0 && options.onProgress) options.onProgress(Math.min(1, (info.ram?.transferred ?? 0) / total));
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    if (!accepted) throw new VmdeskError('QEMU_FAILED', 'QEMU reported the state saved but never connected');
    const err = await written;
    if (err) throw new VmdeskError('IO', `Cannot write the machine state to ${file}: ${err.message}`);
    const handle = await fsp.open(tmp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(tmp, file);
  } catch (err) {
    out.destroy();
    await fsp.rm(tmp, { force: true });
    throw err;
  } finally {
    server.close();
    await fsp.rm(socketPath, { force: true });
  }
}
