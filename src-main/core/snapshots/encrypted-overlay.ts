/**
 * The overlays of an encrypted disk are encrypted too (a LUKS header of their own, the same
 * passphrase), so nothing the guest writes after a snapshot lands in plain text. Writing a LUKS header
 * takes the key: a running machine's QEMU holds it (its secret object), so QEMU creates the overlay
 * itself (blockdev-create) and no passphrase is needed; for a stopped machine qemu-img gets the one
 * the user gave, tried first (see requirePassphrase).
 */
import { randomUUID } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import type { AgentClient } from '../agent/agent-client.js';
import { createEncryptedImage, retryCalibration } from '../storage/encryption.js';
import { LUKS_ENCRYPT, luksCreateOptions } from '../storage/secret-fifo.js';
import { readHeader, relativeBacking } from './images.js';
import { awaitJob } from './qmp-job.js';

/** Who writes an encrypted overlay's header: the running machine's QEMU, or qemu-img with the passphrase. */
export type OverlayKey = { qemu: AgentClient } | { passphrase: string };

/**
 * An empty encrypted qcow2 overlay on `backing` (absolute), sized like it unless `virtualSize` is
 * given. Its header names the backing file relative to its folder, or, with `absoluteBacking` (a
 * linked clone's, in another machine's folder), by its absolute path.
 */
export async function createEncryptedOverlay(
  file: string,
  backing: string,
  key: OverlayKey | null,
  { virtualSize, absoluteBacking = false }: { virtualSize?: number | undefined; absoluteBacking?: boolean } = {},
): Promise<void> {
  if (!key) throw new VmdeskError('INVALID_INPUT', `The passphrase is needed to encrypt the overlay ${file}`, { needsPassphrase: true });
  const abs = path.resolve(file);
  // qemu-img info reads the size without the key, and with -U while QEMU holds the image.
  const size = virtualSize ?? (await readHeader(backing, 'qcow2')).virtualSize;
  const backingName = absoluteBacking ? path.resolve(backing) : relativeBacking(abs, backing);
  if ('passphrase' in key) await createEncryptedImage(abs, size, key.passphrase, backingName);
  else await retryCalibration(() => createEncryptedInQemu(key.qemu, abs, size, backingName));
}

/**
 * An empty encrypted qcow2 image written by a QEMU that holds the key (a running machine's, or the
 * qemu-storage-daemon of a stopped machine's backup), on `backingName` as its header will name it,
 * or on nothing when null. Removed on failure.
 */
export async function createEncryptedInQemu(
  client: Pick<AgentClient, 'qmp'>,
  file: string,
  size: number,
  backingName: string | null,
): Promise<void> {
  const qmp = (command: string, args: Record<string, unknown>): Promise<unknown> => client.qmp(command, args);
  const create = async (options: Record<string, unknown>): Promise<void> => {
    const jobId = `create-${randomUUID().slice(0, 8)}`;
    await qmp('blockdev-create', { 'job-id': jobId, options });
    await awaitJob(client, jobId, `create the encrypted overlay ${file}`);
  };
  const fileNode = `new-${randomUUID().slice(0, 8)}`;
  try {
    await create({ driver: 'file', filename: file, size: 0 });
    await qmp('blockdev-add', { driver: 'file', filename: file, 'node-name': fileNode });
    try {
      await create({
        driver: 'qcow2',
        file: fileNode,
        size,
        ...(backingName === null ? {} : { 'backing-file': backingName, 'backing-fmt': 'qcow2' }),
        encrypt: luksCreateOptions(),
      });
    } finally {
      await qmp('blockdev-del', { 'node-name': fileNode });
    }
  } catch (err) {
    await fsp.rm(file, { force: true });
    throw err;
  }
}

/**
 * blockdev-add's arguments for an encrypted overlay made by `createEncryptedOverlay`: opened without
 * its backing file, which blockdev-snapshot then sets to the node it goes on (QEMU would not pass the
 * key down to a backing file it opened itself).
 */
export function encryptedOverlayNode(nodeName: string, file: string): Record<string, unknown> {
  return { 'node-name': nodeName, driver: 'qcow2', file: { driver: 'file', filename: file }, backing: null, encrypt: LUKS_ENCRYPT };
}
