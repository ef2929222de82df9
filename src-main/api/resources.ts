/**
 * Resource management: memory ballooning (manual, and automatic overcommit by a host memory policy),
 * page sharing (Linux KSM), CPU caps, shares and pinning (cgroups, thread affinity), and the live
 * figures of the Performance views. The machine's own settings live in its config (`resources`);
 * these are the inputs and results of the operations about them.
 */
import { z } from 'zod';
import { MIN_MEMORY_MIB, memoryMiBSchema, resourcesConfigSchema, type CpuPin, type ResourcesConfig } from './machine-config.js';

export {
  DEFAULT_SHARES,
  MAX_SHARES,
  cpuCapSchema,
  cpuPinSchema,
  hostCpuSchema,
  memoryMiBSchema,
  resourcesConfigSchema,
  sharesSchema,
  type CpuPin,
  type ResourcesConfig,
} from './machine-config.js';

export const DEFAULT_RESOURCES: ResourcesConfig = resourcesConfigSchema.parse({});

/** The balloon floor of a machine: its setting, or half its memory (never below the smallest machine). */
export function effectiveMinimum(memoryMiB: number, resources: Pick<ResourcesConfig, 'memoryMinMiB'>): number {
  return resources.memoryMinMiB ?? Math.max(Math.min(MIN_MEMORY_MIB, memoryMiB), Math.ceil(memoryMiB / 2));
}

/**
 * The cross-field rules (min ≤ memory, cap ≤ 100 × vCPUs, pinned vCPUs exist): every problem, in
 * words, or none. The host's own limits (its CPUs) are checked where the host is known.
 */
export function resourceProblems(config: { cpus: number; memoryMiB: number; resources: ResourcesConfig }): string[] {
  const r = config.resources;
  const problems: string[] = [];
  if (r.memoryMinMiB !== undefined && r.memoryMinMiB > config.memoryMiB)
    problems.push(`The minimum memory (${r.memoryMinMiB} MiB) is above the machine's memory (${config.memoryMiB} MiB)`);
  if (r.cpuCap !== null && r.cpuCap > 100 * config.cpus)
    problems.push(
      `A CPU cap of ${r.cpuCap} % is more than ${config.cpus} vCPU${config.cpus === 1 ? '' : 's'} can use (at most ${100 * config.cpus} %)`,
    );
  for (const pin of r.cpuPinning)
    if (pin.vcpu >= config.cpus)
      problems.push(`vCPU ${pin.vcpu} is pinned but the machine has ${config.cpus} vCPU${config.cpus === 1 ? '' : 's'}`);
  return problems;
}

/** `--pin 0:1,1:0` / the settings field: vCPU:hostCPU pairs. */
export function parsePinning(text: string): CpuPin[] {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === 'off' || trimmed === 'none') return [];
  return trimmed.split(',').map((pair) => {
    const m = /^\s*(\d{1,4})\s*:\s*(\d{1,4})\s*$/.exec(pair);
    if (!m) throw new Error(`"${pair.trim().slice(0, 40)}" is not a pinning: write vCPU:hostCPU pairs, e.g. 0:1,1:0`);
    return { vcpu: Number(m[1]), hostCpu: Number(m[2]) };
  });
}

export function formatPinning(pins: readonly CpuPin[]): string {
  return pins.map((p) => `${p.vcpu}:${p.hostCpu}`).join(',');
}

// ---- memory of one machine ----------------------------------------------------------------------

/** What the guest says about its memory (virtio-balloon statistics), in MiB and counts. */
export interface GuestMemoryStats {
  totalMiB: number | null;
  freeMiB: number | null;
  availableMiB: number | null;
  diskCachesMiB: number | null;
  swapInMiB: number | null;
  swapOutMiB: number | null;
  majorFaults: number | null;
  minorFaults: number | null;
  /** When the guest last sent them (ISO time). */
  updatedAt: string;
}

export interface MachineMemory {
  uuid: string;
  name: string;
  /** The machine's configured memory (the balloon's ceiling). */
  memoryMiB: number;
  minimumMiB: number;
  shares: number;
  balloon: {
    /** The device is in the machine (it is, unless switched off). */
    device: boolean;
    /** The guest's balloon driver answers (it has sent statistics or moved the balloon). */
    driver: boolean;
    /** The size asked of the guest, or null when not running. */
    targetMiB: number | null;
    /** The guest's size now (memory minus balloon), from query-balloon. */
    actualMiB: number | null;
    /** Who set the target last. */
    setBy: 'start' | 'user' | 'policy' | null;
  };
  guest: GuestMemoryStats | null;
  /** QEMU's resident memory on the host. */
  hostRssMiB: number | null;
  pageSharing: { enabled: boolean; mergingPages: number | null };
}

// ---- CPU ------------------------------------------------------------------------------------------

export interface CgroupSupport {
  /** Which cgroup version VMDesk uses here, or null: none usable. */
  version: 1 | 2 | null;
  /** The folder machines' cgroups are made in, when usable. */
  root: string | null;
  /** Why caps and shares are unavailable (and what to do), when they are. */
  reason?: string;
}

export interface MachineCpu {
  uuid: string;
  cap: number | null;
  shares: number;
  pinning: CpuPin[];
  /** The vCPU threads QEMU reports, with where each may run now (running machines). */
  threads: Array<{ vcpu: number; threadId: number; hostCpus: number[] }>;
  /** The cgroup the machine's QEMU is in, when it runs in one of VMDesk's. */
  cgroup: string | null;
}

// ---- page sharing (KSM) --------------------------------------------------------------------------

export const ksmInputSchema = z
  .object({
    enabled: z.boolean(),
    /** Pages scanned per wake-up (the kernel's pages_to_scan). */
    pagesToScan: z.int().min(1).max(100_000).optional(),
    /** Sleep between wake-ups in ms (sleep_millisecs). */
    sleepMs: z.int().min(1).max(60_000).optional(),
  })
  .strict();
export type KsmInput = z.input<typeof ksmInputSchema>;

export interface KsmStatus {
  /** The kernel has KSM (/sys/kernel/mm/ksm). */
  available: boolean;
  /** KSM scans (run = 1). */
  running: boolean;
  /** VMDesk turned it on and keeps the host's previous settings to restore. */
  controlledByVmdesk: boolean;
  /** The settings can be changed by this user; otherwise `command` says how. */
  writable: boolean;
  command?: string;
  pagesToScan: number | null;
  sleepMs: number | null;
  pagesShared: number | null;
  pagesSharing: number | null;
  zeroPages: number | null;
  /** (pages_sharing + ksm_zero_pages) × page size. */
  savedBytes: number | null;
  /** The kernel's own figure (general_profit), where it has it. */
  generalProfitBytes: number | null;
  pageSize: number;
  machines: Array<{ uuid: string; name: string; pageSharing: boolean; mergingPages: number | null; profitBytes: number | null }>;
}

// ---- the host memory policy (automatic overcommit) ----------------------------------------------

export const memoryPolicyInputSchema = z
  .object({
    enabled: z.boolean(),
    /** The host memory use the policy keeps below, in percent of the host's memory. */
    targetPercent: z.int().min(1).max(99).optional(),
  })
  .strict();
export type MemoryPolicyInput = z.input<typeof memoryPolicyInputSchema>;
export const DEFAULT_POLICY_TARGET_PERCENT = 80;

export interface PolicyDecision {
  at: string;
  uuid: string;
  name: string;
  fromMiB: number;
  toMiB: number;
  why: string;
}

export interface MemoryPolicyStatus {
  enabled: boolean;
  targetPercent: number;
  /** The policy process runs (pid), or null. */
  pid: number | null;
  hostTotalMiB: number;
  hostUsedMiB: number;
  usedPercent: number;
  machines: Array<{
    uuid: string;
    name: string;
    memoryMiB: number;
    minimumMiB: number;
    shares: number;
    targetMiB: number | null;
    actualMiB: number | null;
    guestFreeMiB: number | null;
    /** Left alone (no balloon device or driver), or why it was last changed. */
    managed: boolean;
    why: string;
  }>;
  /** The latest decisions, newest last. */
  decisions: PolicyDecision[];
}

// ---- live figures ----------------------------------------------------------------------------------

export interface MachineSample {
  /** ms since the epoch. */
  t: number;
  /** QEMU's threads, in percent of one host CPU. */
  cpuPercent: number | null;
  rssMiB: number | null;
  balloonActualMiB: number | null;
  guestFreeMiB: number | null;
  diskReadBps: number | null;
  diskWriteBps: number | null;
  diskReadIops: number | null;
  diskWriteIops: number | null;
  /** null: QEMU does not count this machine's network traffic (user-mode NAT). */
  netRxBps: number | null;
  netTxBps: number | null;
}

export interface HostSample {
  t: number;
  /** All host CPUs, 0–100 %. */
  cpuPercent: number | null;
  memUsedMiB: number;
  memTotalMiB: number;
  ksmSavedMiB: number | null;
  /** Sum of the running machines' memory / host memory. */
  overcommitRatio: number;
}

export interface MachineStats {
  uuid: string;
  /** Oldest first, about one per second, the last few minutes. */
  samples: MachineSample[];
  /** Why some figures are missing (e.g. no network counters under NAT). */
  notes: string[];
}

export interface HostStats {
  samples: HostSample[];
  cpus: number;
  memoryMiB: number;
}

export const memoryTargetSchema = memoryMiBSchema;
