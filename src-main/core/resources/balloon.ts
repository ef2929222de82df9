/**
 * A machine's memory balloon set by hand: its figures (target, actual size, the guest's own view,
 * QEMU's resident memory, page sharing), a target set live by the user within [minimum, memory], the
 * floor raised live when the minimum goes up, and the guest's statistics asked for at every launch.
 */
import fsp from 'node:fs/promises';
import { VmdeskError } from '../../api/errors.js';
import type { MachineConfig } from '../../api/machine-config.js';
import { effectiveMinimum, memoryTargetSchema, type GuestMemoryStats, type MachineMemory } from '../../api/resources.js';
import { parseInput } from '../../api/validation.js';
import { AgentClient } from '../agent/agent-client.js';
import type { Core } from '../core.js';
import { processKsm } from './ksm.js';
import { lockedAgent } from './locked-agent.js';
import { balloonActualMiB, enableGuestStats, guestMemoryStats, setBalloonTarget, BALLOON_PATH } from './balloon-qmp.js';
import { balloonStateFile, readBalloonState, writeBalloonState, type BalloonState } from './balloon-state.js';

/** How long setMemoryTarget waits for a working driver to bring the guest to its target. */
const SETTLE_MS = 3_000;
/** query-balloon rounds to pages the guest moved in batches: this close counts as there. */
const SETTLE_SLACK_MIB = 2;

interface Machine {
  uuid: string;
  dir: string;
  config: MachineConfig;
}

/**
 * Run `fn` with an agent client of a running machine (its QEMU re-adopted first when its agent had
 * gone). Throws INVALID_STATE when the machine is not running.
 */
export async function withMachineAgent<T>(
  core: Core,
  ref: string,
  fn: (client: AgentClient, machine: Machine, qemuPid: number | null) => Promise<T>,
): Promise<T> {
  const record = await core.library.find(ref);
  const client = await core.runtime.connect(record.config, record.dir);
  try {
    return await fn(client, record, core.runtime.status(record.uuid).qemuPid ?? null);
  } finally {
    client.close();
  }
}

export async function machineMemory(core: Core, ref: string): Promise<MachineMemory> {
  const record = await core.library.find(ref);
  if (!core.runtime.isRunning(record.uuid)) return stoppedMemory(record);
  return withMachineAgent(core, record.uuid, (client, machine, qemuPid) =>
    runningMemory(client, machine, qemuPid, core.runtime.dir(machine.uuid)),
  );
}

export async function setMemoryTarget(core: Core, ref: string, targetMiB: number): Promise<MachineMemory> {
  const target = parseInput(memoryTargetSchema, targetMiB, 'memory target');
  return withMachineAgent(core, ref, async (client, machine, qemuPid) => {
    const runtimeDir = core.runtime.dir(machine.uuid);
    const before = await runningMemory(client, machine, qemuPid, runtimeDir);
    const problem = targetProblem(before, target);
    if (problem) throw problem;
    const previous = await readBalloonState(runtimeDir);
    await writeBalloonState(runtimeDir, { targetMiB: target, setBy: 'user' });
    try {
      await setBalloonTarget(client, target);
    } catch (err) {
      await restoreBalloonState(runtimeDir, previous);
      throw err;
    }
    if (before.balloon.driver) await settle(client, target, SETTLE_MS);
    return runningMemory(client, machine, qemuPid, runtimeDir);
  });
}

/**
 * Why `target` cannot be asked of a running machine, or null. The balloon's ceiling is the memory
 * the running QEMU has (the config may already say more, for the next start).
 */
export function targetProblem(memory: MachineMemory, target: number): VmdeskError | null {
  if (!memory.balloon.device)
    return new VmdeskError(
      'INVALID_STATE',
      `${memory.name} has no balloon device: switch it on (vmdesk modify ${memory.name} --balloon on) and restart the machine`,
    );
  if (target < memory.minimumMiB)
    return new VmdeskError(
      'INVALID_INPUT',
      `${target} MiB is below the minimum memory of ${memory.name} (${memory.minimumMiB} MiB): lower the minimum first ` +
        `(vmdesk modify ${memory.name} --memory-min MiB)`,
    );
  if (target > memory.memoryMiB)
    return new VmdeskError(
      'INVALID_INPUT',
      `${target} MiB is above the memory of ${memory.name} (${memory.memoryMiB} MiB): the balloon can only give back what it took`,
    );
  return null;
}

/** Right after a machine was launched: the guest's statistics asked for, the target recorded. Never fails the start. */
export async function afterLaunch(client: AgentClient, config: MachineConfig, runtimeDir: string): Promise<void> {
  if (!config.resources.balloon) return;
  await enableGuestStats(client).catch(() => undefined);
  const status = await client
    .qmp<{ status: string }>('query-status', undefined, 5_000)
    .then((s) => s.status)
    .catch(() => null);
  // A migrating guest brings its balloon from the source: the target there is not known here.
  if (status === null || status === 'inmigrate') return;
  // A start gives the guest all its memory, a state resumed from disk included (its balloon comes back inflated).
  await setBalloonTarget(client, config.memoryMiB)
    .then(() => writeBalloonState(runtimeDir, { targetMiB: config.memoryMiB, setBy: 'start' }))
    .catch(() => undefined);
}

/** A running machine's new minimum: a target below it raised to it (at most the memory QEMU runs with). */
export async function applyMemoryLive(core: Core, before: MachineConfig, next: MachineConfig): Promise<string[]> {
  const status = core.runtime.status(next.uuid);
  if (!core.runtime.isActive(status.state)) return [];
  const runtimeDir = core.runtime.dir(next.uuid);
  const recorded = await readBalloonState(runtimeDir);
  // Cheap first: nothing to raise needs no agent (and the caller holds the machine's lock). QEMU
  // runs with the memory of an earlier config, so the estimate takes the larger of the two.
  const estimate = effectiveMinimum(Math.max(before.memoryMiB, next.memoryMiB), next.resources);
  if (recorded && recorded.targetMiB >= estimate) return [];
  const client = await lockedAgent(core, next, `vmdesk memory ${next.name}`, 'the minimum');
  try {
    const running = await runningMemoryMiB(client);
    const actual = await balloonActualMiB(client);
    if (actual === null) return [];
    const target = Math.min(effectiveMinimum(running ?? before.memoryMiB, next.resources), running ?? before.memoryMiB);
    const current = recorded?.targetMiB ?? actual;
    if (current >= target) return [];
    await setBalloonTarget(client, target);
    await writeBalloonState(runtimeDir, { targetMiB: target, setBy: recorded?.setBy ?? 'user', why: 'raised to the new minimum' });
    return [`balloon raised to the new minimum ${target} MiB`];
  } finally {
    client.close();
  }
}

function stoppedMemory(machine: Machine): MachineMemory {
  const { config } = machine;
  return {
    uuid: machine.uuid,
    name: config.name,
    memoryMiB: config.memoryMiB,
    minimumMiB: effectiveMinimum(config.memoryMiB, config.resources),
    shares: config.resources.memoryShares,
    balloon: { device: config.resources.balloon, driver: false, targetMiB: null, actualMiB: null, setBy: null },
    guest: null,
    hostRssMiB: null,
    pageSharing: { enabled: config.resources.pageSharing, mergingPages: null },
  };
}

async function runningMemory(client: AgentClient, machine: Machine, qemuPid: number | null, runtimeDir: string): Promise<MachineMemory> {
  const { config } = machine;
  const memoryMiB = (await runningMemoryMiB(client)) ?? config.memoryMiB;
  const actual = await balloonActualMiB(client);
  let guest: GuestMemoryStats | null = null;
  if (actual !== null) {
    guest = await guestMemoryStats(client);
    if (!guest) await ensureGuestStats(client);
  }
  const recorded: BalloonState | null = actual === null ? null : await readBalloonState(runtimeDir);
  const pageSharing = await qmpValue<boolean>(client, 'qom-get', { path: '/machine', property: 'mem-merge' });
  return {
    uuid: machine.uuid,
    name: config.name,
    memoryMiB,
    minimumMiB: Math.min(effectiveMinimum(memoryMiB, config.resources), memoryMiB),
    shares: config.resources.memoryShares,
    balloon: {
      device: actual !== null,
      driver: guest !== null || (actual !== null && Math.abs(actual - memoryMiB) > SETTLE_SLACK_MIB),
      targetMiB: actual === null ? null : (recorded?.targetMiB ?? actual),
      actualMiB: actual,
      setBy: recorded?.setBy ?? null,
    },
    guest,
    hostRssMiB: qemuPid === null ? null : await processRssMiB(qemuPid),
    pageSharing: {
      enabled: pageSharing ?? config.resources.pageSharing,
      mergingPages: qemuPid === null ? null : (await processKsm(qemuPid)).mergingPages,
    },
  };
}

/**
 * A QEMU that did not get the polling interval at its launch (started by an older VMDesk) gets it
 * now. Only when it is off: setting it restarts the timer, so asking often would starve the guest's
 * first report. (A migrated-in QEMU keeps the interval afterLaunch set while it waited.)
 */
export async function ensureGuestStats(client: AgentClient): Promise<void> {
  const interval = await qmpValue<number>(client, 'qom-get', { path: BALLOON_PATH, property: 'guest-stats-polling-interval' });
  if (interval === 0) await enableGuestStats(client).catch(() => undefined);
}

/** The memory the running QEMU has (the config may say otherwise for the next start). */
async function runningMemoryMiB(client: AgentClient): Promise<number | null> {
  const summary = await qmpValue<{ 'base-memory': number }>(client, 'query-memory-size-summary');
  return summary ? Math.round(summary['base-memory'] / (1024 * 1024)) : null;
}

async function qmpValue<T>(client: AgentClient, command: string, args?: Record<string, unknown>): Promise<T | null> {
  return client.qmp<T>(command, args, 5_000).catch(() => null);
}

/** Until query-balloon says the guest is at `target` (its driver moved the balloon), at most `timeoutMs`. */
async function settle(client: AgentClient, target: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const actual = await balloonActualMiB(client).catch(() => null);
    if (actual === null || Math.abs(actual - target) <= SETTLE_SLACK_MIB || Date.now() >= deadline) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function restoreBalloonState(runtimeDir: string, previous: BalloonState | null): Promise<void> {
  if (previous) await writeBalloonState(runtimeDir, previous).catch(() => undefined);
  else await fsp.rm(balloonStateFile(runtimeDir), { force: true }).catch(() => undefined);
}

/** VmRSS of a process, in MiB, from /proc/PID/status; null when it is gone or unreadable. */
export async function processRssMiB(pid: number): Promise<number | null> {
  const text = await fsp.readFile(`/proc/${pid}/status`, 'utf8').catch(() => null);
  return text === null ? null : parseVmRssMiB(text);
}

export function parseVmRssMiB(status: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Math.round(Number(m[1]) / 1024) : null;
}
