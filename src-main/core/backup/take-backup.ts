/**
 * Taking a backup point of a machine, running (its QEMU, through its agent) or stopped (its images
 * in qemu-storage-daemon), under the machine's lock: the first point of a chain is full, the next
 * ones incremental while every disk still carries the bitmap of the chain's last point. A failure
 * removes the half-made point and leaves the chain and the bitmaps as they were.
 *
 * An encrypted disk's points are encrypted qcow2 images written by that QEMU with the key it holds
 * (blockdev-create, as a running machine's snapshot overlays are): a running machine's QEMU has it
 * from its start, a stopped machine's daemon gets the passphrase the user gave, tried first.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { BackupInput, BackupOutcome } from '../../api/backup.js';
import { VmdeskError } from '../../api/errors.js';
import type { DiskConfig, MachineConfig } from '../../api/machine-config.js';
import type { AgentClient } from '../agent/agent-client.js';
import { syncDir, syncFile, writeJsonAtomic } from '../fs/atomic-file.js';
import { withLock } from '../fs/lock-file.js';
import { machineLockFile } from '../library/library.js';
import { NVRAM_FILE } from '../paths.js';
import { resolveMachinePath } from '../qemu/qemu-args.js';
import { qemuImgError, runQemuImg } from '../qemu/qemu-img-run.js';
import { createEncryptedInQemu } from '../snapshots/encrypted-overlay.js';
import { encryptedBackingChains, isEncrypted, requirePassphrase, retryCalibration } from '../storage/encryption.js';
import type { TaskContext } from '../tasks/task-manager.js';
import { BITMAP_PREFIX, diskNode, runBackupJobs, type BlockDeviceInfo, type DiskNode, type QmpExec } from './block-jobs.js';
import { rememberTarget, requireTargetDir, resolveChainDir, type BackupServices, type Machine } from './chain-dir.js';
import {
  CHAIN_FILES_DIR,
  POINT_CONFIG_FILE,
  chainTo,
  pointFolderName,
  readManifest,
  sha256File,
  writeManifest,
  type KeptFile,
  type Manifest,
  type PointRecord,
} from './manifest.js';
import { pruneChain } from './retention.js';
import { openStorageDaemon } from './storage-daemon.js';

/** Backups copy qcow2 disks that can change; a read-only or raw disk is refused, as snapshots refuse it. */
export function backupDisks(config: MachineConfig): DiskConfig[] {
  if (config.disks.length === 0) throw new VmdeskError('INVALID_STATE', `${config.name} has no disk to back up`);
  for (const d of config.disks)
    if (d.format !== 'qcow2' || d.readOnly)
      throw new VmdeskError(
        'INVALID_STATE',
        `Cannot back up ${config.name}: its disk ${d.id} is ${d.readOnly ? 'read-only' : d.format}, and backups track changes in writable qcow2 disks`,
      );
  return config.disks;
}

export async function takeBackup(services: BackupServices, machine: Machine, input: BackupInput, ctx: TaskContext): Promise<BackupOutcome> {
  const began = Date.now();
  const target = await requireTargetDir(machine, input.to);
  return withLock(machineLockFile(machine.dir), `backing up ${machine.config.name}`, async () => {
    const { config, dir } = machine;
    const disks = backupDisks(config);
    const running = services.runtime.isRunning(machine.uuid);
    // Before anything is written: a stopped machine's daemon opens its encrypted disks with this passphrase.
    if (!running) await requirePassphrase(config, dir, input.passphrase, 'back it up');
    const chainDir = resolveChainDir(target, config);
    const madeChain = await fs.mkdir(chainDir).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'EEXIST') return false;
        throw new VmdeskError('IO', `Cannot write in ${target}: ${err.message}`);
      },
    );
    try {
      const manifest = (await readManifest(chainDir)) ?? {
        version: 1 as const,
        machine: { uuid: config.uuid, name: config.name },
        points: [],
      };
      const session = running ? await agentSession(services, machine, disks) : await daemonSession(machine, disks, input.passphrase);
      let point: PointRecord;
      let pruned: number[] = [];
      try {
        point = await makePoint(
          session,
          { machine, disks, nodes: await session.nodes(), manifest, chainDir, full: input.full === true },
          ctx,
        );
        manifest.machine.name = config.name;
        manifest.points.push(point);
        await writeManifest(chainDir, manifest);
        await rememberTarget(dir, target);
        const rule = input.keep !== undefined ? { ...input.retention, keepLast: input.keep } : input.retention;
        if (rule !== undefined) {
          ctx.progress(null, 'Merging the points the retention rule drops');
          // Still in the session: its QEMU holds the key that merging encrypted points takes.
          pruned = await pruneChain(chainDir, manifest, rule, session.monitor);
        }
      } finally {
        await session.close();
      }
      ctx.progress(1, 'Backed up');
      return {
        point: point.point,
        kind: point.kind,
        reason: point.reason ?? null,
        dir: chainDir,
        bytes: point.disks.reduce((s, d) => s + d.bytes, 0),
        virtualBytes: point.disks.reduce((s, d) => s + d.virtualSize, 0),
        ms: Date.now() - began,
        via: running ? 'qemu' : 'qemu-storage-daemon',
        pruned,
      };
    } catch (err) {
      if (madeChain) await fs.rm(chainDir, { recursive: true, force: true });
      throw err;
    }
  });
}

interface Session {
  qmp: QmpExec;
  /** The same monitor, as the snapshot code drives a QEMU (its jobs, the encrypted images it writes). */
  monitor: Pick<AgentClient, 'qmp'>;
  nodes(): Promise<DiskNode[]>;
  close(): Promise<void>;
}

async function agentSession(services: BackupServices, machine: Machine, disks: DiskConfig[]): Promise<Session> {
  const client: AgentClient = await services.runtime.connect(machine.config, machine.dir);
  const qmp: QmpExec = (command, args) => client.qmp(command, args, 60_000);
  return {
    qmp,
    monitor: client,
    nodes: async () => {
      const blocks = (await qmp('query-block')) as Array<{ qdev?: string; inserted?: BlockDeviceInfo }>;
      return disks.map((d) => {
        const pattern = new RegExp(`(^|/)${d.id}-dev(/|$)`);
        return diskNode(d.id, blocks.find((b) => b.qdev !== undefined && pattern.test(b.qdev))?.inserted);
      });
    },
    close: () => Promise.resolve(client.close()),
  };
}

async function daemonSession(machine: Machine, disks: DiskConfig[], passphrase: string | undefined): Promise<Session> {
  const below = await encryptedBackingChains(machine.config, machine.dir);
  const images = disks.map((d) => ({
    node: d.id,
    file: resolveMachinePath(machine.dir, d.file),
    encrypted: d.encrypted === true,
    below: below[d.id] ?? [],
  }));
  const daemon = await openStorageDaemon(images, isEncrypted(machine.config) ? passphrase : undefined);
  return {
    qmp: daemon.qmp,
    monitor: { qmp: <T>(command: string, args?: Record<string, unknown>): Promise<T> => daemon.qmp(command, args) as Promise<T> },
    nodes: async () => {
      const all = (await daemon.qmp('query-named-block-nodes', { flat: true })) as BlockDeviceInfo[];
      return disks.map((d) =>
        diskNode(
          d.id,
          all.find((n) => n['node-name'] === d.id),
        ),
      );
    },
    close: () => daemon.close(),
  };
}

interface PointPlan {
  machine: Machine;
  disks: DiskConfig[];
  nodes: DiskNode[];
  manifest: Manifest;
  chainDir: string;
  full: boolean;
}

async function makePoint(session: Session, plan: PointPlan, ctx: TaskContext): Promise<PointRecord> {
  const { manifest, chainDir, nodes } = plan;
  const encrypted = new Set(plan.disks.filter((d) => d.encrypted === true).map((d) => d.id));
  const last = manifest.points.at(-1);
  const reason = await fullReason(plan);
  const kind = last && reason === null ? 'incremental' : 'full';
  const number = (last?.point ?? 0) + 1;
  const folder = pointFolderName(number, kind);
  const pointDir = path.join(chainDir, folder);
  const bitmap = `${BITMAP_PREFIX}${randomBytes(6).toString('hex')}`;
  await makePointDir(pointDir, chainDir);
  try {
    ctx.progress(0, kind === 'full' ? 'Full backup' : 'Incremental backup');
    for (const n of nodes) {
      const file = `${n.id}.qcow2`;
      const backing = kind === 'incremental' && last ? `../${last.folder}/${file}` : null;
      const target = path.join(pointDir, file);
      if (encrypted.has(n.id)) {
        await retryCalibration(() => createEncryptedInQemu(session.monitor, target, n.virtualSize, backing));
        continue;
      }
      const onBacking = backing === null ? [] : ['-b', backing, '-F', 'qcow2'];
      const r = await runQemuImg(['create', '-q', '-f', 'qcow2', ...onBacking, target, String(n.virtualSize)]);
      if (r.code !== 0) throw qemuImgError(`create the backup image of ${n.id}`, r);
    }
    const jobs = nodes.map((n) => ({
      disk: n,
      target: path.join(pointDir, `${n.id}.qcow2`),
      encrypted: encrypted.has(n.id),
      ...(kind === 'incremental' && last ? { since: last.bitmap } : {}),
    }));
    await runBackupJobs(session.qmp, jobs, bitmap, { signal: ctx.signal, onProgress: (f) => ctx.progress(f * 0.95) });
    ctx.progress(0.95, 'Checking the new point');
    const disks = [];
    for (const n of nodes) {
      const file = path.join(pointDir, `${n.id}.qcow2`);
      await syncFile(file);
      const source = plan.disks.find((d) => d.id === n.id)?.file ?? '';
      disks.push({
        id: n.id,
        file: `${n.id}.qcow2`,
        virtualSize: n.virtualSize,
        bytes: (await fs.stat(file)).size,
        sha256: await sha256File(file),
        source,
        ...(encrypted.has(n.id) ? { encrypted: true as const } : {}),
      });
    }
    await writeJsonAtomic(path.join(pointDir, POINT_CONFIG_FILE), plan.machine.config);
    const files = await keepFiles(plan.machine, chainDir);
    await syncDir(pointDir);
    return {
      point: number,
      kind,
      createdAt: new Date().toISOString(),
      folder,
      bitmap,
      ...(last && reason ? { reason } : {}),
      disks,
      files,
    };
  } catch (err) {
    // A target that went away (a USB disk pulled, a NAS gone) cannot be cleaned now: the next backup
    // sweeps what is left (makePointDir). Its error must not hide why the backup failed.
    await fs.rm(pointDir, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}

/**
 * The folder of a new point. One of that number already there is not in the manifest, which is
 * written last: it is what a backup that failed without cleaning up left (its target vanished, its
 * process was killed), never a point of the chain, so it is replaced.
 */
async function makePointDir(pointDir: string, chainDir: string): Promise<void> {
  try {
    await fs.mkdir(pointDir).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
      await fs.rm(pointDir, { recursive: true, force: true });
      await fs.mkdir(pointDir);
    });
  } catch (err) {
    throw new VmdeskError('IO', `Cannot write in ${chainDir}: ${(err as Error).message}`);
  }
}

/**
 * Why the next point must be full: anything that breaks the guarantee that the last point's bitmap
 * marks every cluster written since that point. Null: an incremental point is safe.
 */
async function fullReason({ manifest, chainDir, disks, nodes, full }: PointPlan): Promise<string | null> {
  const last = manifest.points.at(-1);
  if (!last) return 'the first backup of the chain';
  if (full) return 'a full backup was asked for';
  for (const p of chainTo(manifest, last.point))
    for (const d of p.disks)
      if (
        !(await fs.stat(path.join(chainDir, p.folder, d.file)).then(
          (s) => s.isFile(),
          () => false,
        ))
      )
        return `point ${p.point} of the chain is missing from ${chainDir} (${p.folder}/${d.file})`;
  const ids = (list: Array<{ id: string }>): string =>
    list
      .map((d) => d.id)
      .sort()
      .join(',');
  if (ids(last.disks) !== ids(disks)) return 'disks were added or removed since the last backup';
  for (const n of nodes) {
    const before = last.disks.find((d) => d.id === n.id);
    const disk = disks.find((d) => d.id === n.id);
    if (!before || !disk) continue;
    if (before.virtualSize !== n.virtualSize) return `disk ${n.id} was resized since the last backup`;
    // An incremental point is encrypted like the images it rests on.
    if ((before.encrypted === true) !== (disk.encrypted === true)) return `disk ${n.id} was encrypted since the last backup`;
    const b = n.bitmaps.find((x) => x.name === last.bitmap);
    // A snapshot taken carries the bitmap into its overlay (carry-bitmaps.ts); a restored one does not.
    if (!b && before.source !== disk.file)
      return `disk ${n.id} is another image since the last backup (a snapshot was restored), which has no change tracking`;
    if (!b)
      return `disk ${n.id} has no change tracking since the last backup (its bitmap is gone: QEMU was killed or crashed before it could save it, or the image was replaced, restored from a backup or changed outside VMDesk)`;
    if (b.inconsistent)
      return `the change tracking of disk ${n.id} is marked inconsistent (QEMU stopped without saving it: a crash or a kill?)`;
    if (b.busy) return `the change tracking of disk ${n.id} is in use by another job`;
    if (b.recording === false) return `the change tracking of disk ${n.id} was disabled`;
  }
  return null;
}

/** Files the machine keeps in its own folder (kernel, initrd, UEFI variables): copied once each, by content. */
async function keepFiles(machine: Machine, chainDir: string): Promise<KeptFile[]> {
  const { config, dir } = machine;
  const rel = [
    config.kernelBoot?.kernel,
    config.kernelBoot?.initrd ?? undefined,
    config.firmware === 'uefi' ? NVRAM_FILE : undefined,
  ].filter((f): f is string => typeof f === 'string' && !path.isAbsolute(f));
  const kept: KeptFile[] = [];
  const store = path.join(chainDir, CHAIN_FILES_DIR);
  for (const file of rel) {
    const abs = resolveMachinePath(dir, file);
    if (
      !(await fs.stat(abs).then(
        (s) => s.isFile(),
        () => false,
      ))
    )
      continue;
    const sha256 = await sha256File(abs);
    await fs.mkdir(store).catch(() => undefined);
    const dest = path.join(store, sha256);
    if (
      !(await fs.stat(dest).then(
        () => true,
        () => false,
      ))
    ) {
      await fs.copyFile(abs, `${dest}.part`);
      await syncFile(`${dest}.part`);
      await fs.rename(`${dest}.part`, dest);
    }
    kept.push({ path: path.normalize(file), sha256 });
  }
  return kept;
}
