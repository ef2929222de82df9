/**
 * Deleting a snapshot: refused while linked clones rest on it or the running machine's disks do;
 * otherwise its data is merged into its children (a safe rebase), the tree closes over it, and its
 * files go last.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import type { Library } from '../library/library.js';
import { resolveMachinePath } from '../qemu/qemu-args.js';
import { rebaseEncrypted } from '../storage/encryption.js';
import { imageUsers } from '../storage/image-users.js';
import type { TaskContext } from '../tasks/task-manager.js';
import { exists, isRunning, type Machine, type SnapshotServices } from './common.js';
import type { AgentClient } from '../agent/agent-client.js';
import { removeStateFiles } from './console.js';
import { streamIntoChild } from './live-merge.js';
import { chainFiles, readHeader, rebaseImage } from './images.js';
import {
  findSnapshot,
  loadSavedState,
  loadSnapshots,
  saveSnapshots,
  writeSavedState,
  type SnapshotRecord,
  type SnapshotsFile,
} from './store.js';

/** An image resting on the snapshot, and what it rests on once the snapshot's data is merged into it. */
interface Child {
  file: string;
  newBacking: string | null;
  encrypted: boolean;
}

/**
 * Deletes a snapshot under the machine's lock. With `live` (the running machine's agent), a snapshot
 * the running disks rest on is merged by QEMU itself (block-stream into its child, with the key QEMU
 * holds); without, that is refused, as the user's delete does. qemu-img merges into an encrypted
 * child only with `passphrase`.
 */
export async function deleteSnapshot(
  services: SnapshotServices,
  machine: Machine,
  snapshotRef: string,
  ctx: TaskContext,
  { live = null, passphrase }: { live?: AgentClient | null; passphrase?: string } = {},
): Promise<{ id: string; name: string }> {
  const { dir, config } = machine;
  const data = loadSnapshots(dir);
  const snap = findSnapshot(data, snapshotRef);
  const abs = (file: string): string => path.resolve(resolveMachinePath(dir, file));
  const frozenFiles = snap.disks.map((d) => abs(d.file));
  await requireNoLinkedClones(services.library, machine, snap, frozenFiles);
  const children = await childrenOf(machine, data, snap, frozenFiles);
  const inUse = isRunning(services, machine.uuid) ? await runningChain(machine) : new Set<string>();
  if (!live && frozenFiles.some((f) => inUse.has(f)))
    throw new VmdeskError(
      'INVALID_STATE',
      `Stop ${config.name} to delete snapshot "${snap.name}": the running machine's disks rest on it (snapshots on other branches can be deleted while it runs)`,
    );
  const byQemu = (child: Child): boolean => live !== null && inUse.has(child.file);
  if (passphrase === undefined && children.some((c) => c.encrypted && !byQemu(c)))
    throw new VmdeskError(
      'INVALID_INPUT',
      `${config.name} has encrypted disks: its passphrase is needed to delete snapshot "${snap.name}"`,
      {
        needsPassphrase: true,
      },
    );

  // 1. Merge its data into each child (a safe rebase, or QEMU's stream for an image it has open; the child reads the same before and after).
  for (const [i, child] of children.entries()) {
    const options = {
      onProgress: (f: number) => ctx.progress((i + f) / children.length, `Merging "${snap.name}" into its children`),
      signal: ctx.signal,
    };
    if (live && byQemu(child)) await streamIntoChild(live, child.file, child.newBacking, options);
    else if (child.encrypted && passphrase !== undefined) await rebaseEncrypted(child.file, child.newBacking, passphrase, options);
    else await rebaseImage(child.file, child.newBacking, options);
  }
  // 2. The tree without it: children move up to its parent.
  const savedState = loadSavedState(dir);
  const keepVmstate = savedState?.owner === 'snapshot' && savedState.file === snap.vmstate;
  if (keepVmstate && savedState) await writeSavedState(dir, { ...savedState, owner: 'machine' });
  await saveSnapshots(dir, {
    ...data,
    currentId: data.currentId === snap.id ? snap.parentId : data.currentId,
    snapshots: data.snapshots.filter((s) => s.id !== snap.id).map((s) => (s.parentId === snap.id ? { ...s, parentId: snap.parentId } : s)),
  });
  // 3. Its files, last.
  const stillUsed = new Set(config.disks.map((d) => abs(d.file)));
  for (const file of frozenFiles) if (!stillUsed.has(file)) await fsp.rm(file, { force: true });
  if (snap.vmstate && !keepVmstate) await removeStateFiles(dir, snap.vmstate);
  if (snap.nvram) await fsp.rm(abs(snap.nvram), { force: true });
  return { id: snap.id, name: snap.name };
}

/** Linked clones of other machines resting on the snapshot's images keep it, and are named. */
async function requireNoLinkedClones(library: Library, machine: Machine, snap: SnapshotRecord, frozenFiles: string[]): Promise<void> {
  const clones = new Set<string>();
  for (const file of frozenFiles) {
    for (const user of await imageUsers(library, file)) if (user.uuid !== machine.uuid) clones.add(user.name);
  }
  if (clones.size === 0) return;
  const names = [...clones].map((n) => `"${n}"`).join(', ');
  throw new VmdeskError(
    'INVALID_STATE',
    `Cannot delete snapshot "${snap.name}" of ${machine.config.name}: the linked clone${clones.size > 1 ? 's' : ''} ${names} rest${clones.size > 1 ? '' : 's'} on it. Delete ${clones.size > 1 ? 'them' : 'it'} first, or make ${clones.size > 1 ? 'them' : 'it'} independent with a full clone.`,
    { clones: [...clones] },
  );
}

/** Its children: the images (of other snapshots, or the machine's disks) whose backing file is one of its frozen images. */
async function childrenOf(machine: Machine, data: SnapshotsFile, snap: SnapshotRecord, frozenFiles: string[]): Promise<Child[]> {
  const abs = (file: string): string => path.resolve(resolveMachinePath(machine.dir, file));
  // Frozen images and overlays are qcow2 (VMDesk made them); a machine's disk has its format in its config.
  const candidates = new Map<string, string>([
    ...data.snapshots.filter((s) => s.id !== snap.id).flatMap((s) => s.disks.map((d): [string, string] => [abs(d.file), 'qcow2'])),
    ...machine.config.disks.map((d): [string, string] => [abs(d.file), d.format]),
  ]);
  const children: Child[] = [];
  for (const [file, format] of candidates) {
    if (!(await exists(file))) continue;
    const header = await readHeader(file, format);
    if (header.backing === null || !frozenFiles.includes(header.backing)) continue;
    children.push({ file, newBacking: (await readHeader(header.backing, 'qcow2')).backing, encrypted: header.encrypted });
  }
  return children;
}

/** Every image the running machine's disks read (snapshots on other branches are not among them). */
async function runningChain(machine: Machine): Promise<Set<string>> {
  const inUse = new Set<string>();
  for (const disk of machine.config.disks)
    for (const f of await chainFiles(path.resolve(resolveMachinePath(machine.dir, disk.file)), disk.format).catch(() => [])) inUse.add(f);
  return inUse;
}
