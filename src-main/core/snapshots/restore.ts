/**
 * Restoring a snapshot: new overlays on the snapshot's frozen images, then its settings (and UEFI
 * variables, and RAM state as the saved state of a live snapshot) switched in; the discarded state's
 * own files go last. A running machine is restored in place: its QEMU quits once the new files are
 * made (a failure before leaves it running as it was), the files are switched, and its agent starts
 * QEMU again from the snapshot as a start would — the same agent, sockets and clients.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import type { MachineConfig } from '../../api/machine-config.js';
import type { AgentClient } from '../agent/agent-client.js';
import { saveMachineConfig } from '../library/library.js';
import { NVRAM_FILE, SNAPSHOTS_DIR } from '../paths.js';
import { resolveMachinePath } from '../qemu/qemu-args.js';
import type { TaskContext } from '../tasks/task-manager.js';
import { createOverlays, isRunning, makeSnapshotsDir, passphraseKey, type Machine, type SnapshotServices } from './common.js';
import type { OverlayKey } from './encrypted-overlay.js';
import { removeStateFiles } from './console.js';
import {
  findSnapshot,
  hardwareDigest,
  loadSavedState,
  loadSnapshots,
  removeSavedStateRecord,
  saveSnapshots,
  writeSavedState,
  type SnapshotRecord,
} from './store.js';

/**
 * Restores a snapshot under the machine's lock; returns the warnings (what was discarded). `agent`:
 * a client of the running machine's agent, which relaunches its QEMU from the snapshot; null for a
 * stopped machine.
 */
export async function restoreSnapshot(
  services: SnapshotServices,
  machine: Machine,
  snapshotId: string,
  ctx: TaskContext,
  agent: AgentClient | null = null,
  passphrase?: string,
): Promise<string[]> {
  const { dir, config } = machine;
  if (!agent && isRunning(services, machine.uuid))
    throw new VmdeskError('INVALID_STATE', `${config.name} was started meanwhile: stop it and try again`);
  const data = loadSnapshots(dir);
  const snap = findSnapshot(data, snapshotId);
  const abs = (file: string): string => resolveMachinePath(dir, file);
  const frozen = new Set(data.snapshots.flatMap((s) => s.disks.map((d) => d.file)));
  const oldSaved = loadSavedState(dir);
  // Encrypted disks get encrypted overlays: a running QEMU makes them with the key it holds.
  const key = agent ? { qemu: agent } : await passphraseKey(machine, passphrase, 'restore a snapshot of it');
  ctx.progress(null, 'Creating overlays');
  await makeSnapshotsDir(dir);
  const { overlays, nvramTmp } = await newFiles(dir, snap, key);
  const next: MachineConfig = {
    ...snap.config,
    uuid: config.uuid,
    name: config.name,
    disks: snap.config.disks.map((d) => ({ ...d, file: overlays.get(d.id) ?? d.file })),
  };
  if (agent) {
    ctx.progress(null, `Stopping the QEMU of ${config.name}`);
    await agent.request({ op: 'unload' }, 20_000).catch(async (err: unknown) => {
      for (const overlay of overlays.values()) await fsp.rm(abs(overlay), { force: true });
      if (nvramTmp) await fsp.rm(nvramTmp, { force: true });
      throw err;
    });
    // Front ends see it starting.
    services.changed(machine.uuid);
  }
  // The old saved state (if any) belongs to the state being discarded.
  await removeSavedStateRecord(dir);
  if (nvramTmp) await fsp.rename(nvramTmp, path.join(dir, NVRAM_FILE));
  await saveMachineConfig(dir, next);
  try {
    if (snap.kind === 'live' && snap.vmstate)
      await writeSavedState(dir, {
        version: 1,
        file: snap.vmstate,
        owner: 'snapshot',
        createdAt: snap.createdAt,
        hardware: hardwareDigest(next),
      });
    await saveSnapshots(dir, { ...data, currentId: snap.id });
    if (agent) {
      ctx.progress(null, `Starting ${config.name} from the snapshot`);
      await services.relaunch({ ...machine, config: next }, agent);
    }
  } finally {
    // Last, once machine.json has switched (the machine is the snapshot's now, relaunched or not): the discarded state's own files.
    for (const disk of config.disks) {
      if (disk.file.startsWith(`${SNAPSHOTS_DIR}/`) && !frozen.has(disk.file) && !next.disks.some((d) => d.file === disk.file))
        await fsp.rm(abs(disk.file), { force: true });
    }
    if (oldSaved?.owner === 'machine') await removeStateFiles(dir, oldSaved.file);
  }
  return [`The current state of ${config.name} (changes since its last snapshot) was discarded`];
}

/** An overlay on each of the snapshot's images and a copy of its UEFI variables; all or nothing. */
async function newFiles(
  dir: string,
  snap: SnapshotRecord,
  key: OverlayKey | null,
): Promise<{ overlays: Map<string, string>; nvramTmp: string | null }> {
  const made: string[] = [];
  let nvramTmp: string | null = null;
  const encrypted = new Set(snap.config.disks.filter((d) => d.encrypted === true).map((d) => d.id));
  try {
    const disks = snap.disks.map((d) => ({ ...d, encrypted: encrypted.has(d.id) }));
    const overlays = await createOverlays(dir, disks, made, { key });
    if (snap.nvram) {
      nvramTmp = path.join(dir, `.${NVRAM_FILE}.${process.pid}.tmp`);
      await fsp.copyFile(resolveMachinePath(dir, snap.nvram), nvramTmp);
    }
    return { overlays, nvramTmp };
  } catch (err) {
    for (const f of made) await fsp.rm(resolveMachinePath(dir, f), { force: true });
    if (nvramTmp) await fsp.rm(nvramTmp, { force: true });
    throw err;
  }
}
