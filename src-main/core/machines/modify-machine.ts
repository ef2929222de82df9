/** Changing and removing machines. Changes made while a machine runs apply at its next start. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import type { MachineConfig } from '../../api/machine-config.js';
import { resourceProblems } from '../../api/resources.js';
import { modifyMachineInputSchema, type ModifyMachineInput } from '../../api/operations.js';
import { parseInput } from '../../api/validation.js';
import { saveMachineConfig, type Library } from '../library/library.js';
import type { HostCapabilities } from '../host/capabilities.js';
import { DELETING_PREFIX, DISKS_DIR, MACHINE_LOCK, NVRAM_FILE } from '../paths.js';
import { checkResources } from './create-machine.js';
import { requireFirmwareBootsKernel, requireIsoImage } from './media.js';
import { requireHostFile } from '../fs/host-file.js';
import { resolveMachinePath } from '../qemu/qemu-args.js';
import { dependentMachines } from '../storage/image-users.js';

export interface ModifyResult {
  config: MachineConfig;
  dir: string;
  warnings: string[];
  /** What took effect at once on the running machine (the rest applies at its next start). */
  appliedLive: string[];
}

export interface ModifyHooks {
  /**
   * A running machine: apply what can change live (CPU cap, shares, pinning; the balloon's floor)
   * before the new config is saved, so a refusal leaves both as they were. Returns what it applied.
   */
  applyLive?: (before: MachineConfig, next: MachineConfig) => Promise<string[]>;
  /** Host checks of the resource settings (cgroups usable, host CPUs present): every problem, or none. */
  checkResources?: (before: MachineConfig, next: MachineConfig) => Promise<string[]>;
}

/** The resource fields of a patch, merged into `next`'s resources. */
function applyResourcePatch(next: MachineConfig, patch: ModifyMachineInput): boolean {
  const r = next.resources;
  let changed = false;
  const set = <K extends keyof MachineConfig['resources']>(key: K, value: MachineConfig['resources'][K] | undefined): void => {
    if (value === undefined) return;
    r[key] = value;
    changed = true;
  };
  set('balloon', patch.balloon);
  if (patch.memoryMinMiB !== undefined) {
    if (patch.memoryMinMiB === null) delete r.memoryMinMiB;
    else r.memoryMinMiB = patch.memoryMinMiB;
    changed = true;
  }
  set('memoryShares', patch.memoryShares);
  set('pageSharing', patch.pageSharing);
  set('cpuCap', patch.cpuCap);
  set('cpuShares', patch.cpuShares);
  if (patch.cpuPinning !== undefined) {
    if (new Set(patch.cpuPinning.map((p) => p.vcpu)).size !== patch.cpuPinning.length)
      throw new VmdeskError('INVALID_INPUT', 'Each vCPU may be pinned only once');
    set(
      'cpuPinning',
      [...patch.cpuPinning].sort((a, b) => a.vcpu - b.vcpu),
    );
  }
  return changed;
}

export async function modifyMachine(
  library: Library,
  host: HostCapabilities,
  record: { dir: string; config: MachineConfig },
  rawPatch: ModifyMachineInput,
  running: boolean,
  hooks: ModifyHooks = {},
): Promise<ModifyResult> {
  const patch = parseInput(modifyMachineInputSchema, rawPatch, 'machine settings');
  const before = record.config;
  const next: MachineConfig = structuredClone(before);
  const warnings: string[] = [];
  if (patch.osType !== undefined) next.osType = patch.osType;
  if (patch.cpus !== undefined) next.cpus = patch.cpus;
  if (patch.memoryMiB !== undefined) next.memoryMiB = patch.memoryMiB;
  if (patch.cpus !== undefined || patch.memoryMiB !== undefined) warnings.push(...checkResources(next.cpus, next.memoryMiB, host));
  const resourcesChanged = applyResourcePatch(next, patch);
  if (resourcesChanged || patch.cpus !== undefined || patch.memoryMiB !== undefined) {
    const problems = resourceProblems(next);
    if (resourcesChanged && hooks.checkResources) problems.push(...(await hooks.checkResources(before, next)));
    if (problems.length > 0) throw new VmdeskError('INVALID_INPUT', problems.join('; '));
    if (running && (patch.balloon !== undefined || patch.pageSharing !== undefined))
      warnings.push('The balloon device and page sharing change at the next start');
  }
  if (patch.bootOrder !== undefined) {
    if (new Set(patch.bootOrder).size !== patch.bootOrder.length)
      throw new VmdeskError('INVALID_INPUT', 'A boot device may appear only once');
    next.bootOrder = patch.bootOrder;
  }
  // A relative path names a file in the machine folder, as the config stores files it holds (the demo
  // guest's boot/vmlinuz): front ends resolve their users' relative paths before calling the core.
  const inFolder = (file: string): string => resolveMachinePath(record.dir, file);
  const stored = (file: string): string => (path.isAbsolute(file) ? path.normalize(file) : file);
  if (patch.iso !== undefined) {
    if (patch.iso !== null) await requireIsoImage(inFolder(patch.iso));
    next.cdrom = { file: patch.iso === null ? null : stored(patch.iso) };
  }
  if (patch.kernelBoot !== undefined) {
    if (patch.kernelBoot) {
      await requireHostFile(inFolder(patch.kernelBoot.kernel), 'kernel');
      if (patch.kernelBoot.initrd) await requireHostFile(inFolder(patch.kernelBoot.initrd), 'initrd');
    }
    next.kernelBoot = patch.kernelBoot
      ? {
          kernel: stored(patch.kernelBoot.kernel),
          initrd: patch.kernelBoot.initrd ? stored(patch.kernelBoot.initrd) : null,
          cmdline: patch.kernelBoot.cmdline ?? '',
        }
      : null;
  }
  if (patch.displayAdapter !== undefined) next.display = { adapter: patch.displayAdapter };
  if (patch.serial !== undefined) next.serial = { enabled: patch.serial };
  if (patch.notes !== undefined) next.notes = patch.notes;
  if ((patch.firmware !== undefined || patch.kernelBoot !== undefined) && next.kernelBoot)
    await requireFirmwareBootsKernel(
      patch.firmware ?? before.firmware,
      inFolder(next.kernelBoot.kernel),
      before.name,
      next.kernelBoot.kernel,
    );
  if (patch.firmware !== undefined && patch.firmware !== before.firmware) {
    if (running) throw new VmdeskError('INVALID_STATE', `Stop ${before.name} before changing its firmware`);
    next.firmware = patch.firmware;
    if (patch.firmware === 'uefi') {
      if (!host.firmware.ovmfVars)
        throw new VmdeskError('HOST_UNSUPPORTED', 'UEFI firmware (OVMF) is not installed: run `sudo apt-get install ovmf`');
      const nvram = path.join(record.dir, NVRAM_FILE);
      if (
        !(await fs.stat(nvram).then(
          () => true,
          () => false,
        ))
      )
        await fs.copyFile(host.firmware.ovmfVars, nvram);
    }
  }
  let dir = record.dir;
  if (patch.name !== undefined && patch.name !== before.name) {
    if (running) throw new VmdeskError('INVALID_STATE', `Stop ${before.name} before renaming it`);
    const records = await library.list();
    if (records.some((r) => r.config?.name === patch.name))
      throw new VmdeskError('ALREADY_EXISTS', `A machine named "${patch.name}" already exists`);
    next.name = patch.name;
    // A machine in the library's own folder follows its name, as in VirtualBox; one kept elsewhere stays put,
    // and so does a base whose images linked clones name by their absolute paths.
    const followsName = path.dirname(record.dir) === library.machinesDir && path.basename(record.dir) === before.name;
    if (followsName && (await dependentMachines(library, record.dir, before.uuid)).length === 0) {
      const target = path.join(library.machinesDir, patch.name);
      if (
        await fs.stat(target).then(
          () => true,
          () => false,
        )
      )
        throw new VmdeskError('ALREADY_EXISTS', `The folder ${target} already exists`);
      await saveMachineConfig(record.dir, next);
      await fs.rename(record.dir, target);
      await library.relocate(before.uuid, target);
      dir = target;
      return { config: next, dir, warnings, appliedLive: [] };
    }
  }
  const appliedLive = running && resourcesChanged && hooks.applyLive ? await hooks.applyLive(before, next) : [];
  await saveMachineConfig(dir, next);
  return { config: next, dir, warnings, appliedLive };
}

/**
 * Delete a stopped machine: unregister it first (so it is never half-listed), then remove its folder.
 * With keepDisks the disks folder stays where it was; disks attached from elsewhere are never touched.
 */
export async function deleteMachine(
  library: Library,
  record: { dir: string; config: MachineConfig },
  keepDisks: boolean,
): Promise<{ keptDisks: string | null }> {
  await library.unregister(record.config.uuid);
  if (!keepDisks) {
    // Out of the way first, in one step: a start racing this delete finds no folder to lock (a clean
    // refusal), instead of putting its lock file into a folder being removed (ENOTEMPTY).
    const trash = path.join(path.dirname(record.dir), `${DELETING_PREFIX}${record.config.uuid}`);
    await fs.rename(record.dir, trash);
    await fs.rm(trash, { recursive: true, force: true });
    return { keptDisks: null };
  }
  for (const entry of await fs.readdir(record.dir)) {
    if (entry !== DISKS_DIR && entry !== MACHINE_LOCK) await fs.rm(path.join(record.dir, entry), { recursive: true, force: true });
  }
  return { keptDisks: path.join(record.dir, DISKS_DIR) };
}
