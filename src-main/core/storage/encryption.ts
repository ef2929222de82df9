/**
 * Encrypted disks: qcow2 images with LUKS encryption (`encrypt.format=luks`), whose key QEMU and
 * qemu-img read from a secret object fed through a FIFO (see secret-fifo.ts). The passphrase is
 * asked for at every start and kept in no file: machine.json says only which disks are encrypted.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import type { MachineConfig } from '../../api/machine-config.js';
import { imageNode, resolveMachinePath, type BackingLayer } from '../qemu/qemu-args.js';
import { syncImage } from '../qemu/qemu-img.js';
import { qemuImgError, qemuImgSummary, runQemuImg, type QemuImgRun, type RunOptions } from '../qemu/qemu-img-run.js';
import { backingChain } from './image-chain.js';
import { SECRET_ID, luksIterTimeMs, secretObject, withSecretFifo } from './secret-fifo.js';

/** qemu-img's `-o` for a new encrypted image. */
function encryptOptions(): string {
  const iterTime = luksIterTimeMs();
  return `encrypt.format=luks,encrypt.key-secret=${SECRET_ID}${iterTime ? `,encrypt.iter-time=${iterTime}` : ''}`;
}
const WRONG_PASSPHRASE = /Invalid password, cannot unlock any keyslot/i;

/**
 * Writing a LUKS header, QEMU calibrates its key derivation by timing a first run of 2^15 iterations
 * on its thread's user CPU time (getrusage, whole milliseconds). Here that run is shorter than the
 * kernel's 4 ms tick, so in about one try of four no tick lands in it, it measures 0 ms and QEMU
 * gives up with this message before writing anything (measured: 25 of 100 blockdev-create in a
 * running QEMU 7.2). Each try is independent and costs milliseconds, so such a failure is tried
 * again: 12 tries leave about one in 10^7.
 */
const CALIBRATION_FAILED = /Unable to get accurate CPU usage/;
export const CALIBRATION_TRIES = 12;

export async function retryCalibration<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (err) {
      if (tries >= CALIBRATION_TRIES || !CALIBRATION_FAILED.test((err as Error).message)) throw err;
    }
  }
}

export function isEncrypted(config: Pick<MachineConfig, 'disks'>): boolean {
  return config.disks.some((d) => d.encrypted === true);
}

/**
 * What cannot keep an encrypted machine's data encrypted is refused before anything is written, so
 * no copy of its disks (or its memory, which holds their plain data) is ever made without
 * encryption; `why` says what would leave it unencrypted.
 */
export function refuseEncrypted(config: Pick<MachineConfig, 'disks' | 'name'>, action: string, why: string): void {
  if (isEncrypted(config)) throw new VmdeskError('INVALID_STATE', `Cannot ${action} ${config.name}: its disks are encrypted, and ${why}`);
}

/**
 * A new empty encrypted qcow2 image; with `backing` (a qcow2 image's name as the header records it,
 * relative to the new image's folder or absolute), an overlay on it (`-u`: the backing file is not
 * opened, it needs the key too).
 */
export async function createEncryptedImage(file: string, sizeBytes: number, passphrase: string, backing?: string): Promise<void> {
  const abs = path.resolve(file);
  const onBacking = backing === undefined ? [] : ['-u', '-F', 'qcow2', '-b', backing];
  const args = ['create', '-q', '-f', 'qcow2', '--object', '', '-o', encryptOptions(), ...onBacking, abs, String(sizeBytes)];
  await retryCalibration(() => runKeyed(passphrase, args, `create the encrypted disk ${abs}`)).catch(async (err: unknown) => {
    await fs.rm(abs, { force: true });
    throw err;
  });
}

/**
 * An image copied into a new encrypted qcow2 image (`dst` must not exist; removed on failure). With
 * `encryptedSource`, the source is an encrypted qcow2 image (and chain) that opens with the same passphrase.
 */
export async function convertToEncrypted(
  src: string,
  srcFormat: string,
  dst: string,
  passphrase: string,
  opts: { signal?: AbortSignal; onProgress?: (fraction: number) => void; encryptedSource?: boolean } = {},
): Promise<void> {
  const target = path.resolve(dst);
  const source = opts.encryptedSource === true ? [await keyedChain(src)] : ['-f', srcFormat, path.resolve(src)];
  const args = ['convert', '-p', '--object', '', ...source, '-O', 'qcow2', '-o', encryptOptions(), target];
  await fs.writeFile(target, '', { flag: 'wx' });
  try {
    await retryCalibration(() =>
      runKeyed(passphrase, args, `encrypt ${src}`, { signal: opts.signal, onProgress: opts.onProgress ?? (() => undefined) }),
    );
    await syncImage(target);
  } catch (err) {
    await fs.rm(target, { force: true });
    throw err;
  }
}

/**
 * The passphrase is tried on the machine's first encrypted disk before QEMU or qemu-img uses it
 * (`qemu-img check`, which unlocks a key slot: `info` does not): a wrong one is a clear error and
 * nothing runs or is written. Without one, `purpose` (what needs it: "start it") is refused the same
 * way. Only the top image is opened: the key slots of its backing files (its snapshots) open with the
 * same passphrase, and QEMU passes no key down to them.
 */
export async function requirePassphrase(
  config: MachineConfig,
  dir: string,
  passphrase: string | undefined,
  purpose = 'start it',
): Promise<void> {
  const disk = config.disks.find((d) => d.encrypted === true);
  if (!disk) return;
  if (passphrase === undefined)
    throw new VmdeskError('INVALID_INPUT', `${config.name} has encrypted disks: its passphrase is needed to ${purpose}`, {
      needsPassphrase: true,
    });
  const image = JSON.stringify({
    driver: 'qcow2',
    file: { driver: 'file', filename: resolveMachinePath(dir, disk.file) },
    encrypt: { 'key-secret': SECRET_ID },
    backing: null,
  });
  // -U: a running machine's image too (cloning one takes the passphrase).
  const r = await withSecretFifo(passphrase, (key) => runQemuImg(['check', '-q', '-U', '--object', secretObject(key), `json:${image}`]));
  if (WRONG_PASSPHRASE.test(r.stderr))
    throw new VmdeskError('INVALID_INPUT', `Wrong passphrase for ${config.name}: it unlocks none of its encrypted disks`, {
      needsPassphrase: true,
    });
  // Leaks (3) and corruption (2) are said by QEMU's own checks at start; anything else is said here.
  if (r.code !== 0 && r.code !== 2 && r.code !== 3)
    throw new VmdeskError('QEMU_FAILED', `Cannot open ${config.name}'s encrypted disk ${disk.id}: ${qemuImgSummary(r)}`);
}

/** The image and its whole chain as a `json:` name, each encrypted layer opened with the key. */
async function keyedChain(file: string): Promise<string> {
  const [top, ...below] = await backingChain(file, 'qcow2');
  return `json:${JSON.stringify(imageNode('qcow2', path.resolve(file), undefined, top?.encrypted === true, below))}`;
}

/** qemu-img with the passphrase as its secret object: `args` holds `--object` and an empty word after it, for the object. */
export async function runKeyed(passphrase: string, args: string[], what: string, opts: RunOptions = {}): Promise<QemuImgRun> {
  const at = args.indexOf('--object') + 1;
  const r = await withSecretFifo(passphrase, (key) =>
    runQemuImg(
      args.map((a, i) => (i === at ? secretObject(key) : a)),
      opts,
    ),
  );
  if (WRONG_PASSPHRASE.test(r.stderr))
    throw new VmdeskError('INVALID_INPUT', `Wrong passphrase: it does not unlock ${what}`, { needsPassphrase: true });
  if (r.code !== 0) throw qemuImgError(what, r);
  return r;
}

/**
 * The safe rebase of snapshots/images.ts (`file` then reads the same data on `newBacking`, or on
 * nothing) for an encrypted image: qemu-img gets both chains as `json:` names, each layer with the
 * key, since it passes none to a backing file it opens itself. It writes that name as the new
 * backing file, so an unsafe rebase (the data is already the same) then writes the relative one.
 */
export async function rebaseEncrypted(
  file: string,
  newBacking: string | null,
  passphrase: string,
  opts: Pick<RunOptions, 'signal' | 'onProgress'> = {},
): Promise<void> {
  const abs = path.resolve(file);
  const what = `merge snapshot data into ${abs}`;
  const onto = newBacking === null ? ['-b', ''] : ['-F', 'qcow2', '-b', await keyedChain(newBacking)];
  await runKeyed(passphrase, ['rebase', '-p', '--object', '', ...onto, await keyedChain(abs)], what, {
    ...opts,
    onProgress: opts.onProgress ?? (() => undefined),
  });
  if (newBacking === null) return;
  const top = JSON.stringify({ ...imageNode('qcow2', abs, undefined, true, []), backing: null });
  await runKeyed(
    passphrase,
    ['rebase', '-u', '--object', '', '-F', 'qcow2', '-b', path.relative(path.dirname(abs), newBacking), `json:${top}`],
    what,
  );
}

/**
 * The backing files under each encrypted disk's image (its snapshots), top first, for QEMU to open
 * each encrypted one with the key. `qemu-img info` reads the headers without it.
 */
export async function encryptedBackingChains(config: MachineConfig, dir: string): Promise<Record<string, BackingLayer[]>> {
  const chains: Record<string, BackingLayer[]> = {};
  for (const disk of config.disks.filter((d) => d.encrypted === true)) {
    const [, ...below] = await backingChain(resolveMachinePath(dir, disk.file), disk.format);
    chains[disk.id] = below.map(({ file, format, encrypted }) => ({ file, format, encrypted }));
  }
  return chains;
}

/**
 * A chain given whole as a `json:` name (every layer spelled out, each encrypted one with the key
 * secret SECRET_ID, down to `backing: null`) flattened into a new encrypted qcow2 image `dst`, which
 * must not exist and is removed on failure: a backup point restored, whose chain comes from outside.
 */
export async function convertChainToEncrypted(
  spec: string,
  dst: string,
  passphrase: string,
  opts: Pick<RunOptions, 'signal' | 'onProgress'> = {},
): Promise<void> {
  const target = path.resolve(dst);
  const args = ['convert', '-p', '--object', '', spec, '-O', 'qcow2', '-o', encryptOptions(), target];
  await fs.writeFile(target, '', { flag: 'wx' });
  await retryCalibration(() =>
    runKeyed(passphrase, args, `restore ${target}`, { ...opts, onProgress: opts.onProgress ?? (() => undefined) }),
  )
    .then(() => syncImage(target))
    .catch(async (err: unknown) => {
      await fs.rm(target, { force: true });
      throw err;
    });
}
