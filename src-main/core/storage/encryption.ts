/**
 * Encrypted disks: qcow2 images with LUKS encryption (`encrypt.format=luks`), whose key QEMU and
 * qemu-img read from a secret object fed through a FIFO (see secret-fifo.ts). The passphrase is
 * asked for at every start and kept in no file: machine.json says only which disks are encrypted.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import type { MachineConfig } from '../../api/machine-config.js';
import { resolveMachinePath } from '../qemu/qemu-args.js';
import { syncImage } from '../qemu/qemu-img.js';
import { qemuImgError, qemuImgSummary, runQemuImg } from '../qemu/qemu-img-run.js';
import { SECRET_ID, secretObject, withSecretFifo } from './secret-fifo.js';

const ENCRYPT_OPTIONS = `encrypt.format=luks,encrypt.key-secret=${SECRET_ID}`;
const WRONG_PASSPHRASE = /Invalid password, cannot unlock any keyslot/i;

export function isEncrypted(config: Pick<MachineConfig, 'disks'>): boolean {
  return config.disks.some((d) => d.encrypted === true);
}

/**
 * What VMDesk cannot do yet with an encrypted machine is refused before anything is written, so no
 * copy of its disks is ever made without encryption.
 */
export function refuseEncrypted(config: Pick<MachineConfig, 'disks' | 'name'>, action: string): void {
  if (isEncrypted(config))
    throw new VmdeskError('INVALID_STATE', `Cannot ${action} ${config.name}: not yet for encrypted machines (its disks are encrypted)`);
}

/** A new empty encrypted qcow2 image. */
export async function createEncryptedImage(file: string, sizeBytes: number, passphrase: string): Promise<void> {
  const abs = path.resolve(file);
  const r = await withSecretFifo(passphrase, (key) =>
    runQemuImg(['create', '-q', '-f', 'qcow2', '--object', secretObject(key), '-o', ENCRYPT_OPTIONS, abs, String(sizeBytes)]),
  );
  if (r.code !== 0) {
    await fs.rm(abs, { force: true });
    throw qemuImgError(`create the encrypted disk ${abs}`, r);
  }
}

/** An image copied into a new encrypted qcow2 image (`dst` must not exist; removed on failure). */
export async function convertToEncrypted(
  src: string,
  srcFormat: string,
  dst: string,
  passphrase: string,
  opts: { signal?: AbortSignal; onProgress?: (fraction: number) => void } = {},
): Promise<void> {
  const target = path.resolve(dst);
  await fs.writeFile(target, '', { flag: 'wx' });
  try {
    const args = ['convert', '-p', '--object', '', '-f', srcFormat, '-O', 'qcow2', '-o', ENCRYPT_OPTIONS, path.resolve(src), target];
    const r = await withSecretFifo(passphrase, (key) => {
      args[3] = secretObject(key);
      return runQemuImg(args, { ...opts, onProgress: opts.onProgress ?? (() => undefined) });
    });
    if (r.code !== 0) throw qemuImgError(`encrypt ${src}`, r);
    await syncImage(target);
  } catch (err) {
    await fs.rm(target, { force: true });
    throw err;
  }
}

/**
 * The passphrase is tried on the machine's first encrypted disk before QEMU starts (`qemu-img
 * check`, which unlocks a key slot: `info` does not): a wrong one is a clear error and nothing runs.
 * Without one, the start is refused the same way.
 */
export async function requirePassphrase(config: MachineConfig, dir: string, passphrase: string | undefined): Promise<void> {
  const disk = config.disks.find((d) => d.encrypted === true);
  if (!disk) return;
  if (passphrase === undefined)
    throw new VmdeskError('INVALID_INPUT', `${config.name} has encrypted disks: its passphrase is needed to start it`, {
      needsPassphrase: true,
    });
  const image = JSON.stringify({
    driver: 'qcow2',
    file: { driver: 'file', filename: resolveMachinePath(dir, disk.file) },
    encrypt: { 'key-secret': SECRET_ID },
  });
  const r = await withSecretFifo(passphrase, (key) => runQemuImg(['check', '-q', '--object', secretObject(key), `json:${image}`]));
  if (WRONG_PASSPHRASE.test(r.stderr))
    throw new VmdeskError('INVALID_INPUT', `Wrong passphrase for ${config.name}: it unlocks none of its encrypted disks`, {
      needsPassphrase: true,
    });
  // Leaks (3) and corruption (2) are said by QEMU's own checks at start; anything else is said here.
  if (r.code !== 0 && r.code !== 2 && r.code !== 3)
    throw new VmdeskError('QEMU_FAILED', `Cannot open ${config.name}'s encrypted disk ${disk.id}: ${qemuImgSummary(r)}`);
}
