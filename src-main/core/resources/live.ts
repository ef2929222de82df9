/**
 * What a Settings change applies to a running machine at once: its CPU cap, shares and pinning, and
 * its balloon floor. Called before the new config is saved, so a refusal changes nothing.
 */
import type { MachineConfig } from '../../api/machine-config.js';
import type { Core } from '../core.js';
import { applyMemoryLive } from './balloon.js';
import { applyCpuLive, cpuSettingProblems } from './cpu-limits.js';

export async function applyLiveResources(core: Core, before: MachineConfig, next: MachineConfig): Promise<string[]> {
  const cpu = await applyCpuLive(core, before, next);
  return [...cpu, ...(await applyMemoryLive(core, before, next))];
}

export function resourceHostProblems(core: Core, before: MachineConfig, next: MachineConfig): Promise<string[]> {
  return cpuSettingProblems(before, next, core.env);
}
