/**
 * The values that cross the API boundary (IPC, WebSocket, CLI --json). The core produces them; the
 * renderer imports this file for types only.
 */
import type { ErrorShape } from './errors.js';
import type { MachineConfig, MachineState } from './machine-config.js';

/** A machine's run state, derived from its runtime files (never stored in the config). */
export interface RuntimeStatus {
  state: MachineState;
  reason?: string;
  logTail?: string;
  qemuPid?: number;
  accel?: 'kvm' | 'tcg';
  startedAt?: string;
  /** QEMU runs but no agent serves it: the next access re-adopts it. */
  orphaned?: boolean;
}

/** What the per-VM agent reports about its QEMU. */
export interface AgentStatus {
  uuid: string;
  name: string;
  state: MachineState;
  /** Why the machine is in this state (crash cause, shutdown reason), if known. */
  reason?: string;
  /** Last lines of qemu.log when QEMU failed or crashed. */
  logTail?: string;
  qemuPid: number | null;
  agentPid: number;
  accel: 'kvm' | 'tcg';
  startedAt: string;
  /** Present once QEMU has exited: the agent is about to go away. */
  exited?: boolean;
}

export interface MachineSummary {
  uuid: string;
  dir: string;
  /** null when machine.json cannot be read or is invalid; `error` says why. */
  config: MachineConfig | null;
  error?: { code: string; message: string };
  /** A registered machine whose machine.json is unusable: why, and its backup when that is whole. */
  broken?: { reason: string; backup: string | null; name: string };
  status: RuntimeStatus;
  /** Suspended to disk (save state, or restored to a live snapshot): the next start resumes from it. */
  savedState?: boolean;
}

export type MachineDetails = MachineSummary & { config: MachineConfig };

export type TaskState = 'running' | 'done' | 'failed' | 'cancelled';

export interface TaskInfo {
  id: string;
  title: string;
  state: TaskState;
  /** 0..1, or null while the amount of work is unknown. */
  progress: number | null;
  message: string;
  startedAt: string;
  endedAt?: string;
  error?: ErrorShape;
  /** What the task made, once done (e.g. the uuid of a created machine). */
  result?: unknown;
  /** What it is doing, beyond a fraction (a live migration: a MigrationDetail). */
  detail?: unknown;
}

export interface HostCapabilities {
  qemu: {
    binary: string;
    version: string;
    imgBinary: string;
    /** The versioned q35 machine types this QEMU builds (pc-q35-7.2, …), newest first. */
    machineTypes?: string[];
    /** What the bare `q35` alias means here: the type a new machine is pinned to. */
    defaultMachineType?: string;
  } | null;
  accelerators: { kvm: { available: boolean; reason?: string }; tcg: { available: boolean } };
  preferredAccel: 'kvm' | 'tcg' | null;
  cpus: number;
  memoryMiB: number;
  freeMemoryMiB: number;
  firmware: { ovmfCode: string | null; ovmfVars: string | null; seabios: boolean; ipxe: boolean };
}
