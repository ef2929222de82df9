/**
 * `vmdesk backup-restore`: a point of a chain back into the library, as a new machine or over the
 * machine itself (stopped, confirmed). Each disk is the chain up to that point flattened by
 * `qemu-img convert` into one image of the new machine folder, built as a staging folder and put in
 * place only when complete.
 *
 * An encrypted disk's chain is flattened with its passphrase into a new encrypted image (LUKS, the
 * same passphrase): copying its images as they are would need no key, but would leave the restored
 * machine on a chain of backing files no snapshot of it owns.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { BackupRestoreInput, BackupRestoreOutcome } from '../../api/backup.js';
import { VmdeskError } from '../../api/errors.js';
import type { DiskConfig, MachineConfig } from '../../api/machine-config.js';
import { syncDir, syncTree } from '../fs/atomic-file.js';
import { withLock } from '../fs/lock-file.js';
import { loadMachineConfig, machineLockFile, saveMachineConfig, type Library } from '../library/library.js';
import { takenMacs } from '../machines/create-machine.js';
import { generateMac } from '../machines/media.js';
import { BACKUP_TARGET_FILE, DELETING_PREFIX, DISKS_DIR, LOGS_DIR } from '../paths.js';
import { runQemuImg, qemuImgError } from '../qemu/qemu-img-run.js';
import { syncImage } from '../qemu/qemu-img.js';
import { convertChainToEncrypted, requirePassphrase } from '../storage/encryption.js';
import { requireNoDependents } from '../storage/image-users.js';
import type { TaskContext } from '../tasks/task-manager.js';
import { clearOwner, makeStaging } from '../clone/staging.js';
import { requireFreeName } from '../clone/clone-machine.js';
import { chainFiles, chainSpec, checkPointImage } from './chain-images.js';
import type { BackupServices, Machine } from './chain-dir.js';
import { CHAIN_FILES_DIR, chainTo, findPoint, readManifest, sha256File, type Manifest, type PointRecord } from './manifest.js';

export async function restoreBackup(
  services: BackupServices,
  chainDir: string,
  current: Machine | null,
  input: BackupRestoreInput,
  ctx: TaskContext,
): Promise<BackupRestoreOutcome> {
  const read = await readPoint(chainDir, input);
  const { manifest, point, saved } = read;
  await requireRestoreKey(chainDir, read, input.passphrase);
  const passphrase = input.passphrase;
  if (input.as !== undefined) {
    const name = await requireFreeName(services.library, input.as);
    return build(
      services.library,
      { chainDir, chain: chainTo(manifest, point.point), saved, uuid: randomUUID(), name, passphrase },
      ctx,
      null,
    );
  }
  if (!current) throw new VmdeskError('NOT_FOUND', `No machine named "${manifest.machine.name}": restore it as a new one (--as NAME)`);
  if (input.force !== true)
    throw new VmdeskError(
      'INVALID_INPUT',
      `Restoring over ${current.config.name} replaces its disks and snapshots with point ${point.point}: confirm with --force`,
    );
  return withLock(machineLockFile(current.dir), `restoring ${current.config.name}`, async () => {
    const state = services.runtime.status(current.uuid).state;
    if (services.runtime.isActive(state))
      throw new VmdeskError('INVALID_STATE', `${current.config.name} is ${state}: stop it before restoring over it`);
    await requireNoDependents(services.library, { uuid: current.uuid, dir: current.dir, name: current.config.name }, 'restore over');
    const spec = { chainDir, chain: chainTo(manifest, point.point), saved, uuid: current.uuid, name: current.config.name, passphrase };
    return build(services.library, spec, ctx, current);
  });
}

async function readPoint(
  chainDir: string,
  input: BackupRestoreInput,
): Promise<{ manifest: Manifest; point: PointRecord; saved: MachineConfig }> {
  const manifest = await readManifest(chainDir);
  if (!manifest) throw new VmdeskError('NOT_FOUND', `${chainDir} holds no backup chain (no manifest)`);
  const point = findPoint(manifest, input.point);
  const saved = await loadMachineConfig(path.join(chainDir, point.folder)).catch((err: unknown) => {
    throw new VmdeskError('INVALID_INPUT', `Point ${point.point}: ${(err as Error).message}`);
  });
  return { manifest, point, saved };
}

/**
 * A point with encrypted images takes the passphrase, tried on them before anything is written
 * (missing or wrong: said at once). Their headers are checked first: qemu-img opens them.
 */
async function requireRestoreKey(
  chainDir: string,
  { manifest, point, saved }: { manifest: Manifest; point: PointRecord; saved: MachineConfig },
  passphrase: string | undefined,
): Promise<void> {
  const disks: DiskConfig[] = [];
  for (const rec of point.disks.filter((d) => d.encrypted === true)) {
    const disk = saved.disks.find((d) => d.id === rec.id);
    if (!disk) continue;
    const files = chainFiles(chainDir, chainTo(manifest, point.point), rec.id);
    const problems = await checkPointImage(files, rec, false);
    if (problems.length > 0) throw new VmdeskError('INVALID_INPUT', `Point ${point.point}, disk ${rec.id}: ${problems.join('; ')}`);
    disks.push({ ...disk, encrypted: true, file: files.at(-1) as string });
  }
  await requirePassphrase({ ...saved, disks }, chainDir, passphrase, `restore point ${point.point} of it`);
}

/** Tries the passphrase of a point before its restore becomes a task: a front end asks again at once. */
export async function requireBackupKey(chainDir: string, input: BackupRestoreInput): Promise<void> {
  await requireRestoreKey(chainDir, await readPoint(chainDir, input), input.passphrase);
}

interface RestoreSpec {
  chainDir: string;
  chain: PointRecord[];
  saved: MachineConfig;
  uuid: string;
  name: string;
  /** For the encrypted disks' new images (tried already). */
  passphrase: string | undefined;
}

/** The machine folder built in staging, then registered as new or swapped in for `over`. */
async function build(library: Library, spec: RestoreSpec, ctx: TaskContext, over: Machine | null): Promise<BackupRestoreOutcome> {
  const top = spec.chain.at(-1) as PointRecord;
  await library.ensure();
  const staging = await makeStaging(library.machinesDir);
  try {
    await fs.mkdir(path.join(staging, DISKS_DIR));
    await fs.mkdir(path.join(staging, LOGS_DIR));
    const disks: DiskConfig[] = [];
    for (const [i, disk] of spec.saved.disks.entries()) {
      const files = chainFiles(spec.chainDir, spec.chain, disk.id);
      const expected = top.disks.find((d) => d.id === disk.id);
      if (!expected) throw new VmdeskError('INVALID_INPUT', `Point ${top.point} has no image of disk ${disk.id}`);
      const problems = await checkPointImage(files, expected, true);
      if (problems.length > 0) throw new VmdeskError('INVALID_INPUT', `Point ${top.point}, disk ${disk.id}: ${problems.join('; ')}`);
      const file = path.join(DISKS_DIR, `${disk.id}.qcow2`);
      const target = path.join(staging, file);
      const share = 1 / spec.saved.disks.length;
      ctx.progress(i * share, `Restoring ${disk.id}`);
      const run = { signal: ctx.signal, onProgress: (f: number) => ctx.progress((i + f) * share, `Restoring ${disk.id}`) };
      if (expected.encrypted === true) await convertChainToEncrypted(chainSpec(files, true), target, spec.passphrase ?? '', run);
      else {
        const r = await runQemuImg(['convert', '-p', '-O', 'qcow2', chainSpec(files), target], run);
        if (r.code !== 0) throw qemuImgError(`restore disk ${disk.id}`, r);
        await syncImage(target);
      }
      const { trustedBacking: _outside, ...rest } = disk;
      disks.push({ ...rest, file, format: 'qcow2' });
    }
    for (const kept of top.files) {
      const dest = path.join(staging, kept.path);
      await fs.mkdir(path.dirname(dest), { recursive: true });
      await fs.copyFile(path.join(spec.chainDir, CHAIN_FILES_DIR, kept.sha256), dest);
      if ((await sha256File(dest)) !== kept.sha256) throw new VmdeskError('INVALID_INPUT', `The backup's copy of ${kept.path} is damaged`);
    }
    const macs = await takenMacs(library);
    const config: MachineConfig = {
      ...structuredClone(spec.saved),
      uuid: spec.uuid,
      name: spec.name,
      disks,
      // A relative ISO was in the old folder, which a restore does not bring back.
      cdrom: spec.saved.cdrom?.file && !path.isAbsolute(spec.saved.cdrom.file) ? { file: null } : spec.saved.cdrom,
      nics: over
        ? spec.saved.nics
        : spec.saved.nics.map((nic) => {
            const mac = generateMac(macs);
            macs.add(mac);
            return { ...nic, mac };
          }),
    };
    await saveMachineConfig(staging, config);
    await syncTree(staging);
    if (ctx.signal.aborted) throw new VmdeskError('CANCELLED', 'Cancelled');
    const dir = over ? over.dir : path.join(library.machinesDir, spec.name);
    if (over) {
      // The machine keeps its backup folder: its chain goes on (with a full point: the disk is new).
      await fs.copyFile(path.join(over.dir, BACKUP_TARGET_FILE), path.join(staging, BACKUP_TARGET_FILE)).catch(() => undefined);
      const trash = path.join(path.dirname(over.dir), `${DELETING_PREFIX}${over.uuid}`);
      await fs.rename(over.dir, trash);
      await fs.rename(staging, dir);
      await fs.rm(trash, { recursive: true, force: true });
    } else {
      await fs.rename(staging, dir);
      await syncDir(library.machinesDir);
      try {
        await library.register({ uuid: spec.uuid, dir }, spec.name);
      } catch (err) {
        await fs.rm(dir, { recursive: true, force: true });
        throw err;
      }
    }
    await clearOwner(dir);
    ctx.progress(1, 'Restored');
    return { uuid: spec.uuid, name: spec.name, dir, point: top.point };
  } catch (err) {
    await fs.rm(staging, { recursive: true, force: true });
    throw err;
  }
}
