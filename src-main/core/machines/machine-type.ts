/**
 * A machine's versioned machine type (pc-q35-7.2). New machines are pinned at creation; a machine
 * made before pinning existed is pinned to what `q35` means on this host at its next start, as
 * libvirt canonicalises the alias when a domain is defined.
 */
import { VmdeskError } from '../../api/errors.js';
import type { MachineConfig } from '../../api/machine-config.js';
import type { HostCapabilities } from '../../api/types.js';
import { saveMachineConfig } from '../library/library.js';

type Qemu = NonNullable<HostCapabilities['qemu']>;

/** Why this QEMU cannot build the machine's type, or null. */
export function machineTypeProblem(config: MachineConfig, qemu: Qemu): string | null {
  if (!config.machineType || !qemu.machineTypes?.length || qemu.machineTypes.includes(config.machineType)) return null;
  return (
    `${config.name} is a ${config.machineType} machine, which QEMU ${qemu.version} cannot build ` +
    `(it has ${qemu.machineTypes.slice(0, 3).join(', ')}${qemu.machineTypes.length > 3 ? ', …' : ''})`
  );
}

export async function pinMachineType(config: MachineConfig, dir: string, qemu: Qemu): Promise<MachineConfig> {
  const problem = machineTypeProblem(config, qemu);
  if (problem) throw new VmdeskError('HOST_UNSUPPORTED', problem);
  if (config.machineType || !qemu.defaultMachineType) return config;
  const pinned: MachineConfig = { ...config, machineType: qemu.defaultMachineType };
  await saveMachineConfig(dir, pinned);
  return pinned;
}
