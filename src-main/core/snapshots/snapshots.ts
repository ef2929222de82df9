/**
 * Snapshots as external qcow2 images, like VirtualBox's differencing images and libvirt's external
 * snapshots: taking one freezes each disk's current image (it then belongs to the snapshot) and puts
 * an empty overlay on it that becomes the disk; a live snapshot also saves RAM and devices. A frozen
 * image is never written again, so a linked clone can rest on it.
 *
 * Crash safety: new files are written first, machine.json is switched atomically, snapshots.json
 * follows, old files go last. A core killed at any point leaves a bootable machine (at worst an
 * extra, unlisted backing layer or an unreferenced file in snapshots/).
 *
 * This class makes each operation a task under the machine's lock; the operations themselves are
 * take.ts, restore.ts, delete.ts and saved-state.ts. It gets the services it needs from the core.
 */
import {
  takeSnapshotInputSchema,
  snapshotKeyInputSchema,
  snapshotRefSchema,
  type SnapshotKeyInput,
  type RestoreOutcome,
  type SnapshotNode,
  type SnapshotTree,
  type TakeSnapshotInput,
} from '../../api/snapshots.js';
import { VmdeskError } from '../../api/errors.js';
import { parseInput } from '../../api/validation.js';
import { withLock } from '../fs/lock-file.js';
import { machineLockFile } from '../library/library.js';
import type { TaskContext, TaskInfo } from '../tasks/task-manager.js';
import { isRunning, type Machine, type SnapshotServices } from './common.js';
import { deleteSnapshot } from './delete.js';
import { restoreSnapshot } from './restore.js';
import { discardSavedState, saveMachineState } from './saved-state.js';
import { findSnapshot, hasSavedState, loadSnapshots, type SnapshotsFile } from './store.js';
import { takeSnapshot, type TakeResult } from './take.js';
import { refuseEncrypted } from '../storage/encryption.js';

export { snapshotDisks, type SnapshotServices } from './common.js';
export { consumeSavedState, savedStateForStart, savedStateStartFailure } from './saved-state.js';
export type { TakeResult } from './take.js';

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
      ...(s.scheduled ? { scheduled: true } : {}),
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

export class Snapshots {
  constructor(private readonly services: SnapshotServices) {}

  private lock<T>(machine: Machine, purpose: string, fn: (fresh: Machine) => Promise<T>): Promise<T> {
    return withLock(machineLockFile(machine.dir), `${purpose} of ${machine.config.name}`, async () =>
      fn(await this.services.library.find(machine.uuid)),
    );
  }

  async list(ref: string): Promise<SnapshotTree> {
    const machine = await this.services.library.find(ref);
    return buildTree(loadSnapshots(machine.dir), hasSavedState(machine.dir));
  }

  /** `scheduled`: taken by the scheduler for that slot (never given by a front end). */
  take(ref: string, input: TakeSnapshotInput, scheduled?: { slot: string }): { task: TaskInfo; result: Promise<TakeResult> } {
    const { name, description, passphrase } = parseInput(takeSnapshotInputSchema, input, 'snapshot');
    const { library, runtime } = this.services;
    return this.services.tasks.run(
      `Take snapshot "${name}"`,
      async (ctx) => {
        const machine = await library.find(ref);
        const client = isRunning(this.services, machine.uuid) ? await runtime.connect(machine.config, machine.dir) : null;
        try {
          const result = await this.lock(machine, 'taking a snapshot', (fresh) =>
            takeSnapshot(this.services, fresh, { name, description: description ?? '', passphrase, scheduled }, client, ctx),
          );
          this.services.changed(machine.uuid);
          return result;
        } finally {
          client?.close();
        }
      },
      (r) => r,
    );
  }

  restore(ref: string, snapshotRef: string, options: SnapshotKeyInput = {}): { task: TaskInfo; result: Promise<RestoreOutcome> } {
    const snap = parseInput(snapshotRefSchema, snapshotRef, 'snapshot');
    const { passphrase } = parseInput(snapshotKeyInputSchema, options, 'restore options');
    return this.services.tasks.run(
      `Restore snapshot "${snap}"`,
      async (ctx) => {
        const machine = await this.services.library.find(ref);
        // A running machine's agent relaunches its QEMU from the snapshot, under the lock, so a failure
        // (busy, unknown snapshot) stops nothing.
        const agent = isRunning(this.services, machine.uuid) ? await this.services.runtime.connect(machine.config, machine.dir) : null;
        let target = { id: '', name: '' };
        let restarted = false;
        let warnings: string[];
        try {
          warnings = await this.lock(machine, 'restoring a snapshot', async (fresh) => {
            target = findSnapshot(loadSnapshots(fresh.dir), snap);
            restarted = agent !== null && isRunning(this.services, fresh.uuid);
            return restoreSnapshot(this.services, fresh, target.id, ctx, restarted ? agent : null, passphrase);
          });
        } finally {
          agent?.close();
        }
        if (restarted) warnings.push(`${machine.config.name} was running: it was powered off, restored and started again`);
        this.services.changed(machine.uuid);
        return { snapshot: { id: target.id, name: target.name }, warnings, restarted };
      },
      (r) => r,
    );
  }

  delete(
    ref: string,
    snapshotRef: string,
    options: SnapshotKeyInput = {},
  ): { task: TaskInfo; result: Promise<{ id: string; name: string }> } {
    const snap = parseInput(snapshotRefSchema, snapshotRef, 'snapshot');
    const { passphrase } = parseInput(snapshotKeyInputSchema, options, 'delete options');
    return this.services.tasks.run(
      `Delete snapshot "${snap}"`,
      async (ctx) => {
        const machine = await this.services.library.find(ref);
        const result = await this.lock(machine, 'deleting a snapshot', (fresh) =>
          deleteSnapshot(this.services, fresh, snap, ctx, { passphrase }),
        );
        this.services.changed(machine.uuid);
        return result;
      },
      (r) => r,
    );
  }

  /**
   * The scheduler's pruning: deletes these snapshots (ids) one by one under the machine's lock, a
   * running machine's through QEMU (its disks rest on them). One a linked clone rests on is kept and
   * said in `skipped`; the caller (the scheduler's run) is already a task.
   */
  async prune(
    ref: string,
    ids: readonly string[],
    ctx: TaskContext,
  ): Promise<{ pruned: string[]; skipped: Array<{ name: string; why: string }> }> {
    const { library, runtime } = this.services;
    const pruned: string[] = [];
    const skipped: Array<{ name: string; why: string }> = [];
    const machine = await library.find(ref);
    for (const id of ids) {
      const client = isRunning(this.services, machine.uuid) ? await runtime.connect(machine.config, machine.dir) : null;
      try {
        const done = await this.lock(machine, 'pruning scheduled snapshots', (fresh) =>
          deleteSnapshot(this.services, fresh, id, ctx, { live: client }),
        );
        pruned.push(done.name);
      } catch (err) {
        const clones = (err as VmdeskError).details as { clones?: string[] } | undefined;
        if (!(err instanceof VmdeskError) || !clones?.clones) throw err;
        const names = clones.clones.map((n) => `"${n}"`).join(', ');
        skipped.push({ name: findSnapshot(loadSnapshots(machine.dir), id).name, why: `the linked clone ${names} rests on it` });
      } finally {
        client?.close();
      }
    }
    if (pruned.length > 0) this.services.changed(machine.uuid);
    return { pruned, skipped };
  }

  /** Suspend to disk: RAM and devices to a file, then QEMU quits; the next start resumes from it. */
  saveState(ref: string): { task: TaskInfo; result: Promise<{ file: string }> } {
    const { library, runtime } = this.services;
    return this.services.tasks.run(
      `Save state of ${ref}`,
      async (ctx) => {
        const machine = await library.find(ref);
        refuseEncrypted(
          machine.config,
          'save the state of',
          'its memory, which holds their data in plain text, would be written unencrypted',
        );
        const status = runtime.status(machine.uuid);
        if (status.state !== 'running' && status.state !== 'paused')
          throw new VmdeskError('INVALID_STATE', `Cannot save the state of ${machine.config.name}: it is ${status.state}`);
        const client = await runtime.connect(machine.config, machine.dir);
        try {
          const file = await this.lock(machine, 'saving the state', (fresh) =>
            saveMachineState(client, fresh, runtime.dir(machine.uuid), ctx),
          );
          this.services.changed(machine.uuid);
          return { file };
        } finally {
          client.close();
        }
      },
      (r) => r,
    );
  }

  async discardState(ref: string): Promise<void> {
    const machine = await this.services.library.find(ref);
    await this.lock(machine, 'discarding the saved state', (fresh) => discardSavedState(this.services, fresh));
    this.services.changed(machine.uuid);
  }
}
