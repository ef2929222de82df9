/** A machine's memory balloon: its figures, a target set by the user (STUB: to be written — issue 11). */
import { VmdeskError } from '../../api/errors.js';
import type { MachineConfig } from '../../api/machine-config.js';
import type { MachineMemory } from '../../api/resources.js';
import type { AgentClient } from '../agent/agent-client.js';
import type { Core } from '../core.js';

const notYet = (): never => {
  throw new VmdeskError('HOST_UNSUPPORTED', 'Ballooning is not available in this build yet');
};

export function machineMemory(_core: Core, _ref: string): Promise<MachineMemory> {
  return Promise.resolve(notYet());
}

export function setMemoryTarget(_core: Core, _ref: string, _targetMiB: number): Promise<MachineMemory> {
  return Promise.resolve(notYet());
}

/** Right after a machine was launched: the guest's statistics asked for, the target recorded. */
export function afterLaunch(_client: AgentClient, _config: MachineConfig, _runtimeDir: string): Promise<void> {
  return Promise.resolve();
}

/** A running machine's new minimum or shares: a target below the new minimum raised to it. */
export function applyMemoryLive(_core: Core, _before: MachineConfig, _next: MachineConfig): Promise<string[]> {
  return Promise.resolve([]);
}
