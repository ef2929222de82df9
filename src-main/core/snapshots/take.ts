/**
 * Taking a snapshot, step by step: check, new files (an overlay on each disk, the UEFI variables),
 * the switch of the disks to the overlays (machine.json; for a running machine, paused meanwhile,
 * QEMU's block graph too and its RAM saved), and last the tree. A failure before the switch removes
 * what was made.
 */
import { randomUUID } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import type { DiskConfig, MachineConfig } from '../../api/machine-config.js';
import type { AgentClient } from '../agent/agent-client.js';
import type { BitmapInfo, BlockDeviceInfo } from '../backup/block-jobs.js';
import { carriedBitmaps, carryBitmapActions, carryBitmapsOffline } from '../backup/carry-bitmaps.js';
import { saveMachineConfig } from '../library/library.js';
import { NVRAM_FILE } from '../paths.js';
import { isInside } from '../fs/path-inside.js';
import { resolveMachinePath } from '../qemu/qemu-args.js';
import type { TaskContext } from '../tasks/task-manager.js';
import {
  createOverlays,
  exists,
  makeSnapshotsDir,
  passphraseKey,
  removeSnapshotsDirIfEmpty,
  snapshotDisks,
  type Machine,
  type SnapshotServices,
} from './common.js';
import { isEncrypted } from '../storage/encryption.js';
import { keepConsole, syncStateFiles } from './console.js';
import { encryptedOverlayNode } from './encrypted-overlay.js';
import { imageOf } from './live-merge.js';
import { saveRamState } from './ram-state.js';
import { hasSavedState, loadSnapshots, newOwnFile, saveSnapshots, type SnapshotRecord, type SnapshotsFile } from './store.js';

export interface TakeResult {
  id: string;
  name: string;
  kind: 'live' | 'disk';
  warnings: string[];
}

/** The QEMU block node on top of each disk (it changes with every live snapshot), its size and image file. */
type TopNodes = Map<string, { node: string; size: number; file: string | null }>;

/**
 * The image each running disk writes to, as QEMU has it. A take killed between QEMU's switch to the
 * new overlays and machine.json's (a SIGKILLed scheduler or CLI) leaves QEMU on an overlay the config
 * does not name yet: the next snapshot freezes that overlay (it holds what the guest wrote since) and
 * stacks its own on it, so the chain on disk stays the one QEMU reads.
 */
function followQemu(dir: string, disks: DiskConfig[], tops: TopNodes): DiskConfig[] {
  return disks.map((d) => {
    const top = tops.get(d.id)?.file;
    if (!top || top === path.resolve(resolveMachinePath(dir, d.file)) || !isInside(dir, top)) return d;
    return { ...d, file: path.relative(dir, top) };
  });
}

/** The files a snapshot being taken has made so far: removed again if it fails before the switch. */
class NewFiles {
  readonly made: string[] = [];
  constructor(readonly dir: string) {}

  abs(file: string): string {
    return resolveMachinePath(this.dir, file);
  }

  /** Runs a step; if it fails, what was made goes (and the snapshots folder, if it was the first). */
  async orRemove<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      for (const f of this.made) await fsp.rm(this.abs(f), { force: true });
      await removeSnapshotsDirIfEmpty(this.dir);
      throw err;
    }
  }
}

export interface TakeRequest {
  name: string;
  description: string;
  /** A stopped machine with encrypted disks: its passphrase, for their encrypted overlays. */
  passphrase?: string;
  scheduled?: SnapshotRecord['scheduled'];
}

/** Takes a snapshot of a machine, under its lock; `client` is its agent when it runs. */
export async function takeSnapshot(
  services: SnapshotServices,
  machine: Machine,
  { name, description, passphrase, scheduled }: TakeRequest,
  client: AgentClient | null,
  ctx: TaskContext,
): Promise<TakeResult> {
  const { dir, config } = machine;
  const data = loadSnapshots(dir);
  const live = requireTakeable(services, machine, data, name, client);
  let disks = snapshotDisks(config);
  // Encrypted disks get encrypted overlays: a running QEMU makes them with the key it holds.
  const key = client ? { qemu: client } : await passphraseKey(machine, passphrase, 'take a snapshot of it');
  await makeSnapshotsDir(dir);

  // 1. New files: an empty overlay on each disk's current image.
  ctx.progress(null, 'Creating overlays');
  const files = new NewFiles(dir);
  // A running machine's disks: their top nodes and sizes from QEMU (no qemu-img info on a busy image).
  const tops = client && disks.length > 0 ? await topNodes(client, disks) : null;
  if (tops) disks = followQemu(dir, disks, tops);
  const overlays = await files.orRemove(() => createOverlays(dir, disks, files.made, { sizeOf: (id) => tops?.get(id)?.size, key }));
  const next: MachineConfig = { ...config, disks: config.disks.map((d) => ({ ...d, file: overlays.get(d.id) ?? d.file })) };
  const record: SnapshotRecord = {
    id: randomUUID(),
    name,
    description,
    createdAt: new Date().toISOString(),
    parentId: data.currentId,
    // An encrypted machine's RAM is not saved: it holds its disks' data in plain text (see README).
    kind: live && !isEncrypted(config) ? 'live' : 'disk',
    disks: disks.map((d) => ({ id: d.id, file: d.file })),
    config,
    ...(scheduled ? { scheduled } : {}),
  };
  const warnings: string[] = [];
  if (live && record.kind === 'disk')
    warnings.push(
      `"${name}" holds the disks only: the memory of a machine with encrypted disks is not saved, it would be written unencrypted`,
    );

  if (!client) {
    await files.orRemove(async () => {
      await copyNvram(config, record, files);
      // The next backup stays incremental (backup/carry-bitmaps.ts); an encrypted disk's images open with the key.
      const passphrase = key && 'passphrase' in key ? key.passphrase : undefined;
      for (const disk of disks)
        await carryBitmapsOffline(
          resolveMachinePath(dir, disk.file),
          files.abs(overlays.get(disk.id) ?? ''),
          disk.encrypted === true ? passphrase : undefined,
        );
      // 2. The switch: from here the disks write to the overlays.
      await saveMachineConfig(dir, next);
    });
  } else {
    const runtimeDir = services.runtime.dir(machine.uuid);
    await takeLive(client, { disks, tops, overlays, next, record, files, warnings, ctx, runtimeDir });
  }
  // 3. The snapshot joins the tree; the current state now descends from it.
  // The guest runs again already; the RAM state (and its console) goes to disk before the tree refers to it.
  if (record.vmstate) await syncStateFiles(files.abs(record.vmstate));
  await saveSnapshots(dir, { ...data, currentId: record.id, snapshots: [...data.snapshots, record] });
  return { id: record.id, name, kind: record.kind, warnings };
}

/** Whether the machine runs (a live snapshot); refuses a name in use, a saved state, a machine between states. */
function requireTakeable(
  services: SnapshotServices,
  machine: Machine,
  data: SnapshotsFile,
  name: string,
  client: AgentClient | null,
): boolean {
  const { dir, config } = machine;
  if (data.snapshots.some((s) => s.name === name))
    throw new VmdeskError('ALREADY_EXISTS', `${config.name} already has a snapshot named "${name}"`);
  if (hasSavedState(dir))
    throw new VmdeskError('INVALID_STATE', `${config.name} has a saved state: start it (or discard the state) before taking a snapshot`);
  const status = services.runtime.status(machine.uuid);
  const live = services.runtime.isActive(status.state);
  if (live && (client === null || (status.state !== 'running' && status.state !== 'paused')))
    throw new VmdeskError('INVALID_STATE', `Cannot snapshot ${config.name} while it is ${status.state}`);
  return live;
}

async function topNodes(client: AgentClient, disks: DiskConfig[]): Promise<TopNodes> {
  const blocks =
    await client.qmp<Array<{ qdev?: string; inserted?: { 'node-name'?: string; file?: string; image?: { 'virtual-size'?: number } } }>>(
      'query-block',
    );
  const tops: TopNodes = new Map();
  for (const disk of disks) {
    const pattern = new RegExp(`(^|/)${disk.id}-dev(/|$)`);
    const inserted = blocks.find((b) => b.qdev !== undefined && pattern.test(b.qdev))?.inserted;
    const node = inserted?.['node-name'];
    const size = inserted?.image?.['virtual-size'];
    if (!node || size === undefined) throw new VmdeskError('INTERNAL', `The running machine has no block device for ${disk.id}`);
    tops.set(disk.id, { node, size, file: inserted?.file ? imageOf(inserted.file) : null });
  }
  return tops;
}

/** A UEFI machine's variables, copied for the snapshot. */
async function copyNvram(config: MachineConfig, record: SnapshotRecord, files: NewFiles): Promise<void> {
  const vars = path.join(files.dir, NVRAM_FILE);
  if (config.firmware !== 'uefi' || !(await exists(vars))) return;
  const nvram = newOwnFile(record.id, 'nvram');
  await fsp.copyFile(vars, files.abs(nvram));
  files.made.push(nvram);
  record.nvram = nvram;
}

interface LiveTake {
  disks: DiskConfig[];
  tops: TopNodes | null;
  overlays: Map<string, string>;
  next: MachineConfig;
  record: SnapshotRecord;
  files: NewFiles;
  warnings: string[];
  ctx: TaskContext;
  /** The running machine's runtime dir: its console is kept with the RAM state. */
  runtimeDir: string;
}

/** A running machine, paused meanwhile: RAM, devices and disks are frozen together, so the RAM state matches the disks. */
async function takeLive(client: AgentClient, take: LiveTake): Promise<void> {
  const wasRunning = (await client.request<{ state: string }>({ op: 'status' })).state === 'running';
  if (wasRunning) await client.request({ op: 'pause' });
  try {
    take.ctx.progress(null, 'Switching disks to new overlays');
    const { tops } = take;
    if (tops) {
      await take.files.orRemove(() => switchToOverlays(client, take, tops));
      await saveMachineConfig(take.files.dir, take.next);
    }
    await copyNvram(take.record.config, take.record, take.files);
    if (take.record.kind === 'live') await saveMemory(client, take);
  } finally {
    if (wasRunning) await client.request({ op: 'resume' });
    else if (take.record.vmstate) {
      // After a migration QEMU keeps the disks inactive until `cont`: a machine that was paused is
      // continued and paused again at once, so later snapshots and saves work on it.
      await client.request({ op: 'resume' });
      await client.request({ op: 'pause' });
    }
  }
}

/**
 * One QMP transaction: each disk's top node gets its overlay on top. An encrypted overlay is added
 * first, with the key (blockdev-snapshot-sync would open it without); if the switch fails, it goes.
 */
async function switchToOverlays(client: AgentClient, { disks, overlays, files }: LiveTake, tops: TopNodes): Promise<void> {
  const qmp = (command: string, args: Record<string, unknown>): Promise<unknown> => client.qmp(command, args);
  const added: string[] = [];
  try {
    const actions: unknown[] = [];
    const bitmaps = await nodeBitmaps(client);
    for (const disk of disks) {
      const node = tops.get(disk.id)?.node ?? '';
      const overlay = files.abs(overlays.get(disk.id) ?? '');
      const overlayNode = `${disk.id}-${randomUUID().slice(0, 8)}`;
      if (disk.encrypted === true) {
        await qmp('blockdev-add', encryptedOverlayNode(overlayNode, overlay));
        added.push(overlayNode);
        actions.push({ type: 'blockdev-snapshot', data: { node, overlay: overlayNode } });
      } else
        actions.push({
          type: 'blockdev-snapshot-sync',
          data: { 'node-name': node, 'snapshot-file': overlay, 'snapshot-node-name': overlayNode, format: 'qcow2', mode: 'existing' },
        });
      // In the same transaction: the next backup stays incremental (backup/carry-bitmaps.ts).
      actions.push(...carryBitmapActions(node, overlayNode, carriedBitmaps(bitmaps.get(node) ?? [])));
    }
    await qmp('transaction', { actions });
  } catch (err) {
    for (const node of added) await qmp('blockdev-del', { 'node-name': node }).catch(() => undefined);
    throw err;
  }
}

/** Each block node's dirty bitmaps, by node name. */
async function nodeBitmaps(client: AgentClient): Promise<Map<string, BitmapInfo[]>> {
  const nodes = await client.qmp<BlockDeviceInfo[]>('query-named-block-nodes', { flat: true });
  return new Map(nodes.map((n) => [n['node-name'] ?? '', n['dirty-bitmaps'] ?? []]));
}

/** The RAM state; if it cannot be saved, the snapshot (its disks already switched) holds the disks only. */
async function saveMemory(client: AgentClient, { record, files, warnings, ctx, runtimeDir }: LiveTake): Promise<void> {
  ctx.progress(0, 'Saving memory');
  const vmstate = newOwnFile(record.id, 'vmstate');
  try {
    await saveRamState(client, files.abs(vmstate), {
      onProgress: (f) => ctx.progress(f, 'Saving memory'),
      signal: ctx.signal,
    });
    record.vmstate = vmstate;
    if (!(await keepConsole(runtimeDir, files.abs(vmstate))))
      warnings.push(`The serial console could not be kept with "${record.name}": restored, it shows only what the guest prints next`);
  } catch (err) {
    if ((err as VmdeskError).code === 'CANCELLED') throw err;
    // The disks are already switched: keep what was taken as a disk snapshot rather than nothing.
    record.kind = 'disk';
    warnings.push(`The memory could not be saved (${(err as Error).message}): "${record.name}" holds the disks only`);
  }
}
