/**
 * CPU caps, shares and pinning (STUB: to be written — see issue 11). Caps and shares through cgroups
 * (v1 or v2, detected at run time); pinning through the affinity of the vCPU threads QMP reports.
 */
import { z } from 'zod';
import { VmdeskError } from '../../api/errors.js';
import type { MachineConfig } from '../../api/machine-config.js';
import type { CgroupSupport, MachineCpu } from '../../api/resources.js';
import { cpuPinSchema } from '../../api/machine-config.js';
import type { QmpClient } from '../qemu/qmp-client.js';
import type { Core } from '../core.js';

/** What the agent applies to its QEMU before the guest runs (in launch.json). */
export const cpuPlanSchema = z.object({
  /** The machine's cgroup folders (v1: one per controller; v2: one), or empty: cgroups unusable and not needed. */
  cgroups: z.array(z.string()),
  version: z.union([z.literal(1), z.literal(2)]).nullable(),
  capPercent: z.number().int().positive().nullable(),
  shares: z.number().int().positive(),
  pinning: z.array(cpuPinSchema),
});
export type CpuPlan = z.infer<typeof cpuPlanSchema>;

const notYet = (): never => {
  throw new VmdeskError('HOST_UNSUPPORTED', 'CPU caps, shares and pinning are not available in this build yet');
};

/** Whether (and where) this host lets VMDesk put machines into cgroups, and why not. */
export function cgroupSupport(_env: NodeJS.ProcessEnv = process.env): Promise<CgroupSupport> {
  return Promise.resolve({ version: null, root: null, reason: 'not built yet' });
}

/** The plan for a machine being started (null: nothing to apply). Throws when its settings cannot be honoured here. */
export function cpuPlanForStart(_config: MachineConfig, _env: NodeJS.ProcessEnv): Promise<CpuPlan | null> {
  return Promise.resolve(null);
}

/** In the agent, before `cont`: QEMU into its cgroup, cap and shares set, vCPU threads pinned. */
export function applyCpuPlan(_plan: CpuPlan, _qemuPid: number, _qmp: QmpClient): Promise<void> {
  return Promise.resolve(notYet());
}

/** In the agent, once QEMU has exited: its cgroup folders removed. */
export function releaseCpuPlan(_plan: CpuPlan): Promise<void> {
  return Promise.resolve();
}

/** Host problems of new settings (cgroups unusable for a cap or shares, a host CPU that does not exist). */
export function cpuSettingProblems(_before: MachineConfig, _next: MachineConfig, _env: NodeJS.ProcessEnv): Promise<string[]> {
  return Promise.resolve([]);
}

/** A running machine's cap, shares and pinning changed now (all or nothing); returns what was applied. */
export function applyCpuLive(_core: Core, _before: MachineConfig, _next: MachineConfig): Promise<string[]> {
  return Promise.resolve([]);
}

export function machineCpu(_core: Core, _ref: string): Promise<MachineCpu> {
  return Promise.resolve(notYet());
}
