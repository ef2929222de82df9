/**
 * CPU caps, shares and pinning. Caps and shares through cgroups (v1 or v2, detected at run time):
 * every machine started where cgroups are usable runs in its own group `<root>/<uuid>`, so shares
 * weigh machines against each other. Pinning sets the affinity of the vCPU threads QMP reports.
 * Applied by the agent before the guest runs, and live by a settings change (all or nothing).
 */
import path from 'node:path';
import { z } from 'zod';
import { VmdeskError } from '../../api/errors.js';
import type { MachineConfig } from '../../api/machine-config.js';
import { DEFAULT_SHARES, formatPinning, type CgroupSupport, type CpuPin, type MachineCpu } from '../../api/resources.js';
import { cpuPinSchema } from '../../api/machine-config.js';
import { lockedAgent } from './locked-agent.js';
import type { QmpClient } from '../qemu/qmp-client.js';
import type { Core } from '../core.js';
import { cgroupSupportOfHost } from './cgroup-detect.js';
import { groupHolds, makeGroup, moveProcess, readLimits, removeGroup, writeLimits, type CpuLimits } from './cgroup-fs.js';
import {
  affinityPlan,
  missingHostCpus,
  onlineCpus,
  setThreadAffinity,
  threadAffinity,
  vcpuThreads,
  type VcpuThread,
} from './cpu-affinity.js';

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

type Resources = MachineConfig['resources'];

/** A cap or shares other than the default need a cgroup; pinning does not. */
const needsCgroup = (r: Resources): boolean => r.cpuCap !== null || r.cpuShares !== DEFAULT_SHARES;
const samePinning = (a: readonly CpuPin[], b: readonly CpuPin[]): boolean => formatPinning(a) === formatPinning(b);

/** Whether (and where) this host lets VMDesk put machines into cgroups, and why not. */
export function cgroupSupport(env: NodeJS.ProcessEnv = process.env): Promise<CgroupSupport> {
  return cgroupSupportOfHost(env);
}

function unavailable(name: string, support: CgroupSupport): VmdeskError {
  return new VmdeskError(
    'HOST_UNSUPPORTED',
    `${name} has a CPU cap or CPU shares, which need cgroups, unavailable here: ${support.reason ?? 'no usable cgroup'}. ` +
      `Remove them (vmdesk modify ${name} --cpu-cap off --cpu-shares ${DEFAULT_SHARES}) or make cgroups usable`,
  );
}

async function requireHostCpus(pins: readonly CpuPin[]): Promise<void> {
  if (pins.length === 0) return;
  const missing = missingHostCpus(pins, await onlineCpus());
  if (missing.length > 0) throw new VmdeskError('INVALID_INPUT', missing.join('; '));
}

/** The plan for a machine being started (null: nothing to apply). Throws when its settings cannot be honoured here. */
export async function cpuPlanForStart(config: MachineConfig, env: NodeJS.ProcessEnv): Promise<CpuPlan | null> {
  const r = config.resources;
  await requireHostCpus(r.cpuPinning);
  const support = await cgroupSupport(env);
  const limits = { capPercent: r.cpuCap, shares: r.cpuShares, pinning: r.cpuPinning };
  if (support.version === null || support.root === null) {
    if (needsCgroup(r)) throw unavailable(config.name, support);
    return r.cpuPinning.length > 0 ? { cgroups: [], version: null, ...limits } : null;
  }
  return { cgroups: [path.join(support.root, config.uuid)], version: support.version, ...limits };
}

/** In the agent, before `cont`: QEMU into its cgroup, cap and shares set, vCPU threads pinned. */
export async function applyCpuPlan(plan: CpuPlan, qemuPid: number, qmp: QmpClient): Promise<void> {
  if (plan.version !== null)
    for (const group of plan.cgroups) {
      await makeGroup(plan.version, group, { capPercent: plan.capPercent, shares: plan.shares });
      await moveProcess(group, qemuPid);
    }
  if (plan.pinning.length === 0) return;
  const threads = await vcpuThreads((command) => qmp.execute(command));
  // vCPUs left unpinned keep what QEMU was started with.
  const unpinned = await threadAffinity(qemuPid, qemuPid);
  for (const [tid, cpus] of affinityPlan(threads, plan.pinning, unpinned)) await setThreadAffinity(tid, cpus);
}

/** In the agent, once QEMU has exited: its cgroup folders removed. */
export async function releaseCpuPlan(plan: CpuPlan): Promise<void> {
  for (const group of plan.cgroups) await removeGroup(group);
}

/** Host problems of new settings (cgroups unusable for a cap or shares, a host CPU that does not exist). */
export async function cpuSettingProblems(before: MachineConfig, next: MachineConfig, env: NodeJS.ProcessEnv): Promise<string[]> {
  const b = before.resources;
  const n = next.resources;
  const problems: string[] = [];
  if (!samePinning(b.cpuPinning, n.cpuPinning)) problems.push(...missingHostCpus(n.cpuPinning, await onlineCpus()));
  // Only what this change asks for: removing a cap is always possible.
  const asksCgroup = (n.cpuCap !== null && n.cpuCap !== b.cpuCap) || (n.cpuShares !== DEFAULT_SHARES && n.cpuShares !== b.cpuShares);
  if (asksCgroup) {
    const support = await cgroupSupport(env);
    if (support.version === null)
      problems.push(`A CPU cap or CPU shares need cgroups, which are unavailable here: ${support.reason ?? 'no usable cgroup'}`);
  }
  return problems;
}

/** What a live change does, read before anything is touched so that a failure can put it all back. */
export interface LiveChange {
  group: { version: 1 | 2; dir: string; before: CpuLimits | null; next: CpuLimits } | null;
  threads: Array<{ tid: number; before: number[]; next: number[] }>;
}

/** A running machine's cap, shares and pinning changed now (all or nothing); returns what was applied. */
export async function applyCpuLive(core: Core, before: MachineConfig, next: MachineConfig): Promise<string[]> {
  const b = before.resources;
  const n = next.resources;
  const limitsChanged = b.cpuCap !== n.cpuCap || b.cpuShares !== n.cpuShares;
  const pinningChanged = !samePinning(b.cpuPinning, n.cpuPinning);
  if (!limitsChanged && !pinningChanged) return [];
  const status = core.runtime.status(next.uuid);
  if (!core.runtime.isActive(status.state)) return [];
  const pid = status.qemuPid;
  if (pid === undefined)
    throw new VmdeskError('INVALID_STATE', `${next.name}'s QEMU is not known yet (it is ${status.state}): try again in a moment`);
  const change: LiveChange = { group: null, threads: [] };
  if (limitsChanged) change.group = await liveGroup(core, next, pid);
  if (pinningChanged) change.threads = await liveThreads(core, next, pid);
  await applyLiveChange(change, pid);
  const applied: string[] = [];
  if (b.cpuCap !== n.cpuCap) applied.push(n.cpuCap === null ? 'no CPU cap' : `CPU cap ${n.cpuCap} %`);
  if (b.cpuShares !== n.cpuShares) applied.push(`CPU shares ${n.cpuShares}`);
  if (pinningChanged)
    applied.push(
      n.cpuPinning.length === 0 ? 'vCPUs unpinned' : n.cpuPinning.map((p) => `vCPU ${p.vcpu} on host CPU ${p.hostCpu}`).join(', '),
    );
  return applied;
}

async function liveGroup(core: Core, next: MachineConfig, pid: number): Promise<LiveChange['group']> {
  const support = await cgroupSupport(core.env);
  const nextLimits = { capPercent: next.resources.cpuCap, shares: next.resources.cpuShares };
  if (support.version === null || support.root === null) {
    // Back to no cap and default shares: a machine outside any group has them already.
    if (!needsCgroup(next.resources)) return null;
    throw unavailable(next.name, support);
  }
  const dir = path.join(support.root, next.uuid);
  const inGroup = await groupHolds(dir, pid);
  return { version: support.version, dir, before: inGroup ? await readLimits(support.version, dir) : null, next: nextLimits };
}

async function liveThreads(core: Core, next: MachineConfig, pid: number): Promise<LiveChange['threads']> {
  const online = await onlineCpus();
  const missing = missingHostCpus(next.resources.cpuPinning, online);
  if (missing.length > 0) throw new VmdeskError('INVALID_INPUT', missing.join('; '));
  const threads = await queryThreads(core, next);
  const unpinned = await threadAffinity(pid, pid);
  const plan = affinityPlan(threads, next.resources.cpuPinning, unpinned);
  const out: LiveChange['threads'] = [];
  for (const [tid, cpus] of plan) out.push({ tid, before: await threadAffinity(pid, tid), next: cpus });
  return out;
}

/** The vCPU threads of a running machine, from its agent (under the machine's lock: no re-adoption here). */
async function queryThreads(core: Core, config: MachineConfig): Promise<VcpuThread[]> {
  const client = await lockedAgent(core, config, `vmdesk cpu ${config.name}`, 'the pinning');
  try {
    return await vcpuThreads((command) => client.qmp(command, undefined, 5_000));
  } finally {
    client.close();
  }
}

/** The new limits and affinities, each step undone (newest first) when a later one fails. */
export async function applyLiveChange(change: LiveChange, pid: number): Promise<void> {
  const undo: Array<() => Promise<void>> = [];
  try {
    const g = change.group;
    if (g) {
      if (g.before) {
        const was = g.before;
        await writeLimits(g.version, g.dir, g.next);
        undo.push(() => writeLimits(g.version, g.dir, was));
      } else {
        // Started where cgroups were not used: its group is made now (the sweep removes it once it is empty).
        await makeGroup(g.version, g.dir, g.next);
        undo.push(() => writeLimits(g.version, g.dir, { capPercent: null, shares: DEFAULT_SHARES }));
        await moveProcess(g.dir, pid);
      }
    }
    for (const t of change.threads) {
      await setThreadAffinity(t.tid, t.next);
      undo.push(() => setThreadAffinity(t.tid, t.before));
    }
  } catch (err) {
    for (const step of undo.reverse()) await step().catch(() => undefined);
    throw err;
  }
}

/** A machine's CPU settings, and while it runs its vCPU threads (with their host CPUs) and its cgroup. */
export async function machineCpu(core: Core, ref: string): Promise<MachineCpu> {
  const record = await core.library.find(ref);
  const r = record.config.resources;
  const cpu: MachineCpu = { uuid: record.uuid, cap: r.cpuCap, shares: r.cpuShares, pinning: r.cpuPinning, threads: [], cgroup: null };
  const status = core.runtime.status(record.uuid);
  if (!core.runtime.isActive(status.state)) return cpu;
  const client = await core.runtime.connect(record.config, record.dir);
  let threads: VcpuThread[];
  try {
    threads = await vcpuThreads((command) => client.qmp(command, undefined, 5_000));
  } finally {
    client.close();
  }
  const pid = core.runtime.status(record.uuid).qemuPid;
  if (pid === undefined) return cpu;
  for (const t of threads) cpu.threads.push({ ...t, hostCpus: await threadAffinity(pid, t.threadId).catch(() => []) });
  const support = await cgroupSupport(core.env);
  if (support.root !== null) {
    const dir = path.join(support.root, record.uuid);
    if (await groupHolds(dir, pid)) cpu.cgroup = dir;
  }
  return cpu;
}
