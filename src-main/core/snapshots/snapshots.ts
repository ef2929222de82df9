/**
 * Snapshots as external qcow2 images, like VirtualBox's differencing images and libvirt's external
 * snapshots: taking one freezes each disk's current image (it then belongs to the snapshot) and puts
 * an empty overlay on it that becomes the disk; a live snapshot also saves RAM and devices. A frozen
 * image is never written again, so a linked clone can rest on it.
 *
 * Crash safety: new files are written first, machine.json is switched atomically, snapshots.json
 * follows, old files go last. A core killed at any point leaves a bootable machine (at worst an
 * extra, unlisted backing layer or an unreferenced file in snapshots/).
 */
import { randomUUID } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import type { DiskConfig, MachineConfig } from '../../api/machine-config.js';
import {
  takeSnapshotInputSchema,
  snapshotRefSchema,
  type RestoreOutcome,
  type SnapshotNode,
  type SnapshotTree,
  type TakeSnapshotInput,
} from '../../api/snapshots.js';
import { parseInput } from '../../api/validation.js';
import type { AgentClient } from '../agent/agent-client.js';
import type { Core } from '../core.js';
import { withLock } from '../fs/lock-file.js';
import { machineLockFile, saveMachineConfig, type MachineRecord } from '../library/library.js';
import { NVRAM_FILE, SNAPSHOTS_DIR } from '../paths.js';
import { resolveMachinePath } from '../qemu/qemu-args.js';
import { imageUsers } from '../storage/image-users.js';
import type { TaskContext, TaskInfo } from '../tasks/task-manager.js';
import { chainFiles, createOverlay, readHeader, rebaseImage } from './images.js';
import { saveRamState, syncFile } from './ram-state.js';
import {
  findSnapshot,
  hardwareDigest,
  hasSavedState,
  loadSavedState,
  loadSnapshots,
  newOwnFile,
  removeSavedStateRecord,
  saveSnapshots,
  writeSavedState,
  type SnapshotRecord,
  type SnapshotsFile,
} from './store.js';

type Machine = MachineRecord & { config: MachineConfig };

export interface TakeResult {
  id: string;
  name: string;
  kind: 'live' | 'disk';
  warnings: string[];
}

async function exists(file: string): Promise<boolean> {
  return fsp.access(file).then(
    () => true,
    () => false,
  );
}

/** Writable disks are snapshotted; read-only ones never change, so they are left as they are. */
export function snapshotDisks(config: MachineConfig): DiskConfig[] {
  const disks = config.disks.filter((d) => !d.readOnly);
  for (const disk of disks) {
    if (disk.format !== 'qcow2')
      throw new VmdeskError(
        'INVALID_STATE',
        `Cannot snapshot ${config.name}: its disk ${disk.id} is ${disk.format}, and snapshots need qcow2 disks. Convert the disk to qcow2 or make it read-only.`,
      );
    if (path.isAbsolute(disk.file))
      throw new VmdeskError(
        'INVALID_STATE',
        `Cannot snapshot ${config.name}: its disk ${disk.id} lives outside the machine folder (${disk.file}). Move or copy it into the machine first.`,
      );
  }
  return disks;
}

function buildTree(data: SnapshotsFile, savedState: boolean): SnapshotTree {
  const nodes = new Map<string, SnapshotNode>();
  for (const s of data.snapshots) {
    nodes.set(s.id, {
      id: s.id,
      name: s.name,
      description: s.description,
      createdAt: s.createdAt,
      parentId: s.parentId,
      kind: s.kind,
      current: s.id === data.currentId,
      children: [],
    });
  }
  const roots: SnapshotNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.parentId ? nodes.get(node.parentId) : undefined;
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  return { currentId: data.currentId, roots, savedState };
}

/**
 * The machine folder exists, so no recursive mkdir: on a full filesystem Node's recursive mkdir
 * reports ENOENT where mkdir(2) says ENOSPC.
 */
async function makeSnapshotsDir(dir: string): Promise<void> {
  await fsp.mkdir(path.join(dir, SNAPSHOTS_DIR)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
}

/** A failure that made the snapshots folder (the machine's first) leaves the machine as it was. */
async function removeSnapshotsDirIfEmpty(dir: string): Promise<void> {
  await fsp.rmdir(path.join(dir, SNAPSHOTS_DIR)).catch(() => undefined);
}

/** The QEMU block node on top of each disk (it changes with every live snapshot). */
async function topNodes(client: AgentClient, disks: DiskConfig[]): Promise<Map<string, { node: string; size: number }>> {
  const blocks = await client.request<Array<{ qdev?: string; inserted?: { 'node-name'?: string; image?: { 'virtual-size'?: number } } }>>({
    op: 'qmp',
    command: 'query-block',
  });
  const tops = new Map<string, { node: string; size: number }>();
  for (const disk of disks) {
    const pattern = new RegExp(`(^|/)${disk.id}-dev(/|$)`);
    const inserted = blocks.find((b) => b.qdev !== undefined && pattern.test(b.qdev))?.inserted;
    const node = inserted?.['node-name'];
    const size = inserted?.image?.['virtual-size'];
    if (!node || size === undefined) throw new VmdeskError('INTERNAL', `The running machine has no block device for ${disk.id}`);
    tops.set(disk.id, { node, size });
  }
  return tops;
}

export class Snapshots {
  constructor(private readonly core: Core) {}

  private isActive(uuid: string): boolean {
    return this.core.runtime.isActive(this.core.runtime.status(uuid).state);
  }

  private lock<T>(machine: Machine, purpose: string, fn: (fresh: Machine) => Promise<T>): Promise<T> {
    return withLock(machineLockFile(machine.dir), `${purpose} of ${machine.config.name}`, async () =>
      fn(await this.core.library.find(machine.uuid)),
    );
  }

  private changed(uuid: string): void {
    this.core.emit('machines');
    this.core.emit('machine-state', { uuid, status: this.core.runtime.status(uuid) });
  }

  async list(ref: string): Promise<SnapshotTree> {
    const machine = await this.core.library.find(ref);
    return buildTree(loadSnapshots(machine.dir), hasSavedState(machine.dir));
  }

  take(ref: string, input: TakeSnapshotInput): { task: TaskInfo; result: Promise<TakeResult> } {
    const { name, description } = parseInput(takeSnapshotInputSchema, input, 'snapshot');
    return this.core.tasks.run(
      `Take snapshot "${name}"`,
      async (ctx) => {
        const machine = await this.core.library.find(ref);
        const client = this.isActive(machine.uuid) ? await this.core.runtime.connect(machine.config, machine.dir) : null;
        try {
          const result = await this.lock(machine, 'taking a snapshot', (fresh) =>
            this.takeLocked(fresh, name, description ?? '', client, ctx),
          );
          this.changed(machine.uuid);
          return result;
        } finally {
          client?.close();
        }
      },
      (r) => r,
    );
  }

  private async takeLocked(
    machine: Machine,
    name: string,
    description: string,
    client: AgentClient | null,
    ctx: TaskContext,
  ): Promise<TakeResult> {
    const { dir, config } = machine;
    const data = loadSnapshots(dir);
    if (data.snapshots.some((s) => s.name === name))
      throw new VmdeskError('ALREADY_EXISTS', `${config.name} already has a snapshot named "${name}"`);
    if (hasSavedState(dir))
      throw new VmdeskError('INVALID_STATE', `${config.name} has a saved state: start it (or discard the state) before taking a snapshot`);
    const status = this.core.runtime.status(machine.uuid);
    const live = this.core.runtime.isActive(status.state);
    if (live && (client === null || (status.state !== 'running' && status.state !== 'paused')))
      throw new VmdeskError('INVALID_STATE', `Cannot snapshot ${config.name} while it is ${status.state}`);
    const disks = snapshotDisks(config);
    const id = randomUUID();
    const abs = (file: string): string => resolveMachinePath(dir, file);
    await makeSnapshotsDir(dir);

    // 1. New files: an empty overlay on each disk's current image.
    ctx.progress(null, 'Creating overlays');
    const overlays = new Map<string, string>();
    const made: string[] = [];
    const removeMade = async (): Promise<void> => {
      for (const f of made) await fsp.rm(abs(f), { force: true });
      await removeSnapshotsDirIfEmpty(dir);
    };
    // A running machine's disks: their top nodes and sizes from QEMU (no qemu-img info on a busy image).
    const tops = client && disks.length > 0 ? await topNodes(client, disks) : null;
    try {
      for (const disk of disks) {
        const overlay = newOwnFile(randomUUID(), 'qcow2');
        await createOverlay(abs(overlay), abs(disk.file), tops?.get(disk.id)?.size);
        made.push(overlay);
        overlays.set(disk.id, overlay);
      }
    } catch (err) {
      await removeMade();
      throw err;
    }
    const next: MachineConfig = { ...config, disks: config.disks.map((d) => ({ ...d, file: overlays.get(d.id) ?? d.file })) };
    const record: SnapshotRecord = {
      id,
      name,
      description,
      createdAt: new Date().toISOString(),
      parentId: data.currentId,
      kind: live ? 'live' : 'disk',
      disks: disks.map((d) => ({ id: d.id, file: d.file })),
      config,
    };
    const copyNvram = async (): Promise<void> => {
      if (config.firmware !== 'uefi' || !(await exists(path.join(dir, NVRAM_FILE)))) return;
      const nvram = newOwnFile(id, 'nvram');
      await fsp.copyFile(path.join(dir, NVRAM_FILE), abs(nvram));
      made.push(nvram);
      record.nvram = nvram;
    };
    const warnings: string[] = [];

    if (!client) {
      try {
        await copyNvram();
        // 2. The switch: from here the disks write to the overlays.
        await saveMachineConfig(dir, next);
      } catch (err) {
        await removeMade();
        throw err;
      }
    } else {
      const agentState = (await client.request<{ state: string }>({ op: 'status' })).state;
      const wasRunning = agentState === 'running';
      if (wasRunning) await client.request({ op: 'pause' });
      try {
        // Paused: RAM, devices and disks are frozen together, so the RAM state matches the disks.
        ctx.progress(null, 'Switching disks to new overlays');
        if (tops) {
          const actions = disks.map((disk) => ({
            type: 'blockdev-snapshot-sync',
            data: {
              'node-name': tops.get(disk.id)?.node,
              'snapshot-file': abs(overlays.get(disk.id) ?? ''),
              'snapshot-node-name': `${disk.id}-${randomUUID().slice(0, 8)}`,
              format: 'qcow2',
              mode: 'existing',
            },
          }));
          try {
            await client.request({ op: 'qmp', command: 'transaction', args: { actions } });
          } catch (err) {
            await removeMade();
            throw err;
          }
          await saveMachineConfig(dir, next);
        }
        await copyNvram();
        ctx.progress(0, 'Saving memory');
        const vmstate = newOwnFile(id, 'vmstate');
        try {
          await saveRamState(client, abs(vmstate), {
            onProgress: (f) => ctx.progress(f, 'Saving memory'),
            signal: ctx.signal,
          });
          record.vmstate = vmstate;
        } catch (err) {
          if ((err as VmdeskError).code === 'CANCELLED') throw err;
          // The disks are already switched: keep what was taken as a disk snapshot rather than nothing.
          record.kind = 'disk';
          warnings.push(`The memory could not be saved (${(err as Error).message}): "${name}" holds the disks only`);
        }
      } finally {
        if (wasRunning) await client.request({ op: 'resume' });
        else if (record.vmstate) {
          // After a migration QEMU keeps the disks inactive until `cont`: a machine that was paused is
          // continued and paused again at once, so later snapshots and saves work on it.
          await client.request({ op: 'resume' });
          await client.request({ op: 'pause' });
        }
      }
    }
    // 3. The snapshot joins the tree; the current state now descends from it.
    // The guest runs again already; the RAM state goes to disk before the tree refers to it.
    if (record.vmstate) await syncFile(abs(record.vmstate));
    await saveSnapshots(dir, { ...data, currentId: id, snapshots: [...data.snapshots, record] });
    return { id, name, kind: record.kind, warnings };
  }

  restore(ref: string, snapshotRef: string): { task: TaskInfo; result: Promise<RestoreOutcome> } {
    const snap = parseInput(snapshotRefSchema, snapshotRef, 'snapshot');
    return this.core.tasks.run(
      `Restore snapshot "${snap}"`,
      async (ctx) => {
        const machine = await this.core.library.find(ref);
        // Under the lock from the power-off on, so a failure (busy, unknown snapshot) powers nothing off.
        let restarted = false;
        let target = { id: '', name: '' };
        const warnings = await this.lock(machine, 'restoring a snapshot', async (fresh) => {
          target = findSnapshot(loadSnapshots(fresh.dir), snap);
          if (this.isActive(fresh.uuid)) {
            ctx.progress(null, `Powering ${fresh.config.name} off`);
            await this.core.shutdown(fresh.uuid, { force: true });
            restarted = true;
          }
          return this.restoreLocked(fresh, target.id, ctx);
        });
        if (restarted) {
          ctx.progress(null, `Starting ${machine.config.name} again`);
          await this.core.start(machine.uuid);
          warnings.push(`${machine.config.name} was running: it was powered off, restored and started again`);
        }
        this.changed(machine.uuid);
        return { snapshot: { id: target.id, name: target.name }, warnings, restarted };
      },
      (r) => r,
    );
  }

  private async restoreLocked(machine: Machine, snapshotId: string, ctx: TaskContext): Promise<string[]> {
    const { dir, config } = machine;
    if (this.isActive(machine.uuid)) throw new VmdeskError('INVALID_STATE', `${config.name} was started meanwhile: stop it and try again`);
    const data = loadSnapshots(dir);
    const snap = findSnapshot(data, snapshotId);
    const abs = (file: string): string => resolveMachinePath(dir, file);
    const frozen = new Set(data.snapshots.flatMap((s) => s.disks.map((d) => d.file)));
    const oldSaved = loadSavedState(dir);
    ctx.progress(null, 'Creating overlays');
    await makeSnapshotsDir(dir);
    const made: string[] = [];
    const overlays = new Map<string, string>();
    let nvramTmp: string | null = null;
    try {
      for (const disk of snap.disks) {
        const overlay = newOwnFile(randomUUID(), 'qcow2');
        await createOverlay(abs(overlay), abs(disk.file));
        made.push(overlay);
        overlays.set(disk.id, overlay);
      }
      if (snap.nvram) {
        nvramTmp = path.join(dir, `.${NVRAM_FILE}.${process.pid}.tmp`);
        await fsp.copyFile(abs(snap.nvram), nvramTmp);
      }
    } catch (err) {
      for (const f of made) await fsp.rm(abs(f), { force: true });
      if (nvramTmp) await fsp.rm(nvramTmp, { force: true });
      throw err;
    }
    const next: MachineConfig = {
      ...snap.config,
      uuid: config.uuid,
      name: config.name,
      disks: snap.config.disks.map((d) => ({ ...d, file: overlays.get(d.id) ?? d.file })),
    };
    // The old saved state (if any) belongs to the state being discarded.
    await removeSavedStateRecord(dir);
    if (nvramTmp) await fsp.rename(nvramTmp, path.join(dir, NVRAM_FILE));
    await saveMachineConfig(dir, next);
    if (snap.kind === 'live' && snap.vmstate)
      await writeSavedState(dir, {
        version: 1,
        file: snap.vmstate,
        owner: 'snapshot',
        createdAt: snap.createdAt,
        hardware: hardwareDigest(next),
      });
    await saveSnapshots(dir, { ...data, currentId: snap.id });
    // Last: the discarded state's own files.
    for (const disk of config.disks) {
      if (disk.file.startsWith(`${SNAPSHOTS_DIR}/`) && !frozen.has(disk.file) && !next.disks.some((d) => d.file === disk.file))
        await fsp.rm(abs(disk.file), { force: true });
    }
    if (oldSaved?.owner === 'machine') await fsp.rm(abs(oldSaved.file), { force: true });
    return [`The current state of ${config.name} (changes since its last snapshot) was discarded`];
  }

  delete(ref: string, snapshotRef: string): { task: TaskInfo; result: Promise<{ id: string; name: string }> } {
    const snap = parseInput(snapshotRefSchema, snapshotRef, 'snapshot');
    return this.core.tasks.run(
      `Delete snapshot "${snap}"`,
      async (ctx) => {
        const machine = await this.core.library.find(ref);
        const result = await this.lock(machine, 'deleting a snapshot', (fresh) => this.deleteLocked(fresh, snap, ctx));
        this.changed(machine.uuid);
        return result;
      },
      (r) => r,
    );
  }

  private async deleteLocked(machine: Machine, snapshotRef: string, ctx: TaskContext): Promise<{ id: string; name: string }> {
    const { dir, config } = machine;
    const data = loadSnapshots(dir);
    const snap = findSnapshot(data, snapshotRef);
    const abs = (file: string): string => path.resolve(resolveMachinePath(dir, file));
    const frozenFiles = snap.disks.map((d) => abs(d.file));

    // Linked clones of other machines resting on this snapshot's images.
    const clones = new Set<string>();
    for (const file of frozenFiles) {
      for (const user of await imageUsers(this.core.library, file)) if (user.uuid !== machine.uuid) clones.add(user.name);
    }
    if (clones.size > 0) {
      const names = [...clones].map((n) => `"${n}"`).join(', ');
      throw new VmdeskError(
        'INVALID_STATE',
        `Cannot delete snapshot "${snap.name}" of ${config.name}: the linked clone${clones.size > 1 ? 's' : ''} ${names} rest${clones.size > 1 ? '' : 's'} on it. Delete ${clones.size > 1 ? 'them' : 'it'} first, or make ${clones.size > 1 ? 'them' : 'it'} independent with a full clone.`,
        { clones: [...clones] },
      );
    }

    // Its children: the images whose backing file is one of its frozen images.
    // Frozen images and overlays are qcow2 (VMDesk made them); a machine's disk has its format in its config.
    const candidates = new Map<string, string>([
      ...data.snapshots.filter((s) => s.id !== snap.id).flatMap((s) => s.disks.map((d): [string, string] => [abs(d.file), 'qcow2'])),
      ...config.disks.map((d): [string, string] => [abs(d.file), d.format]),
    ]);
    const children: Array<{ file: string; newBacking: string | null }> = [];
    for (const [file, format] of candidates) {
      if (!(await exists(file))) continue;
      const header = await readHeader(file, format);
      if (header.backing === null || !frozenFiles.includes(header.backing)) continue;
      children.push({ file, newBacking: (await readHeader(header.backing, 'qcow2')).backing });
    }

    if (this.isActive(machine.uuid)) {
      const inUse = new Set<string>();
      for (const disk of config.disks) for (const f of await chainFiles(abs(disk.file), disk.format).catch(() => [])) inUse.add(f);
      if (frozenFiles.some((f) => inUse.has(f)))
        throw new VmdeskError(
          'INVALID_STATE',
          `Stop ${config.name} to delete snapshot "${snap.name}": the running machine's disks rest on it (snapshots on other branches can be deleted while it runs)`,
        );
    }

    // 1. Merge its data into each child (a safe rebase; the child reads the same before and after).
    for (const [i, child] of children.entries()) {
      await rebaseImage(child.file, child.newBacking, {
        onProgress: (f) => ctx.progress((i + f) / children.length, `Merging "${snap.name}" into its children`),
        signal: ctx.signal,
      });
    }
    // 2. The tree without it: children move up to its parent.
    const savedState = loadSavedState(dir);
    const keepVmstate = savedState?.owner === 'snapshot' && savedState.file === snap.vmstate;
    if (keepVmstate && savedState) await writeSavedState(dir, { ...savedState, owner: 'machine' });
    await saveSnapshots(dir, {
      ...data,
      currentId: data.currentId === snap.id ? snap.parentId : data.currentId,
      snapshots: data.snapshots
        .filter((s) => s.id !== snap.id)
        .map((s) => (s.parentId === snap.id ? { ...s, parentId: snap.parentId } : s)),
    });
    // 3. Its files, last.
    const stillUsed = new Set(config.disks.map((d) => abs(d.file)));
    for (const file of frozenFiles) if (!stillUsed.has(file)) await fsp.rm(file, { force: true });
    if (snap.vmstate && !keepVmstate) await fsp.rm(abs(snap.vmstate), { force: true });
    if (snap.nvram) await fsp.rm(abs(snap.nvram), { force: true });
    return { id: snap.id, name: snap.name };
  }

  /** Suspend to disk: RAM and devices to a file, then QEMU quits; the next start resumes from it. */
  saveState(ref: string): { task: TaskInfo; result: Promise<{ file: string }> } {
    return this.core.tasks.run(
      `Save state of ${ref}`,
      async (ctx) => {
        const machine = await this.core.library.find(ref);
        const status = this.core.runtime.status(machine.uuid);
        if (status.state !== 'running' && status.state !== 'paused')
          throw new VmdeskError('INVALID_STATE', `Cannot save the state of ${machine.config.name}: it is ${status.state}`);
        const client = await this.core.runtime.connect(machine.config, machine.dir);
        try {
          const file = await this.lock(machine, 'saving the state', async (fresh) => {
            const { dir, config } = fresh;
            if (hasSavedState(dir)) throw new VmdeskError('INVALID_STATE', `${config.name} already has a saved state`);
            const wasRunning = (await client.request<{ state: string }>({ op: 'status' })).state === 'running';
            if (wasRunning) await client.request({ op: 'pause' });
            await makeSnapshotsDir(dir);
            const vmstate = newOwnFile(randomUUID(), 'vmstate');
            try {
              await saveRamState(client, resolveMachinePath(dir, vmstate), {
                onProgress: (f) => ctx.progress(f, 'Saving memory'),
                signal: ctx.signal,
              });
              await syncFile(resolveMachinePath(dir, vmstate));
              await writeSavedState(dir, {
                version: 1,
                file: vmstate,
                owner: 'machine',
                createdAt: new Date().toISOString(),
                hardware: hardwareDigest(config),
              });
            } catch (err) {
              // No record, no state file: a state nobody refers to would only take space (the disk is full?).
              await fsp.rm(resolveMachinePath(dir, vmstate), { force: true });
              await removeSnapshotsDirIfEmpty(dir);
              if (wasRunning) await client.request({ op: 'resume' }).catch(() => undefined);
              throw err;
            }
            ctx.progress(1, 'Stopping QEMU');
            const stopped = await client.request<{ exited?: boolean }>({ op: 'poweroff' }, 20_000);
            if (stopped.exited) await client.whenClosed(5_000);
            return resolveMachinePath(dir, vmstate);
          });
          this.changed(machine.uuid);
          return { file };
        } finally {
          client.close();
        }
      },
      (r) => r,
    );
  }

  async discardState(ref: string): Promise<void> {
    const machine = await this.core.library.find(ref);
    await this.lock(machine, 'discarding the saved state', async ({ dir, config, uuid }) => {
      if (this.isActive(uuid)) throw new VmdeskError('INVALID_STATE', `${config.name} is running`);
      const saved = loadSavedState(dir);
      if (!saved) throw new VmdeskError('INVALID_STATE', `${config.name} has no saved state`);
      await removeSavedStateRecord(dir);
      if (saved.owner === 'machine') await fsp.rm(resolveMachinePath(dir, saved.file), { force: true });
    });
    this.changed(machine.uuid);
  }
}

/**
 * For Core.start (under the machine lock): the saved RAM state to resume from, if any. Refuses a
 * state saved with other hardware, which QEMU could not load.
 */
export async function savedStateForStart(dir: string, config: MachineConfig): Promise<{ file: string } | null> {
  const saved = loadSavedState(dir);
  if (!saved) return null;
  const file = resolveMachinePath(dir, saved.file);
  if (!(await exists(file)))
    throw new VmdeskError(
      'NOT_FOUND',
      `The saved state of ${config.name} is missing (${file}): discard it with \`vmdesk discard-state ${config.name}\``,
    );
  if (saved.hardware !== hardwareDigest(config))
    throw new VmdeskError(
      'INVALID_STATE',
      `The settings of ${config.name} changed since its state was saved, so it cannot resume: undo the change, or discard the saved state (\`vmdesk discard-state ${config.name}\`) to boot afresh`,
    );
  return { file };
}

/** Once QEMU has loaded it: a save-state file is used up (a live snapshot keeps its own). */
export async function consumeSavedState(dir: string): Promise<void> {
  const saved = loadSavedState(dir);
  if (!saved) return;
  await removeSavedStateRecord(dir);
  if (saved.owner === 'machine') await fsp.rm(resolveMachinePath(dir, saved.file), { force: true });
}

export function savedStateStartFailure(name: string, err: unknown): VmdeskError {
  const e = err instanceof VmdeskError ? err : new VmdeskError('QEMU_FAILED', (err as Error).message);
  return new VmdeskError(
    e.code,
    `${e.message}\n${name} could not resume from its saved state; to boot it afresh: vmdesk discard-state ${name}`,
    e.details,
  );
}
