/**
 * The machine state machine, driven by QMP events and process exit (never by polling).
 * Pure: the agent feeds it inputs and publishes the state it reports.
 */
import type { MachineState } from '../../api/machine-config.js';

export type StateInput =
  | { kind: 'qmp'; event: string; data?: unknown }
  | { kind: 'continued' }
  | { kind: 'shutdown-requested' }
  | { kind: 'shutdown-timed-out' }
  | { kind: 'poweroff-requested' }
  /** QEMU is being started again in place (a live snapshot restored): a new start, as far as the state goes. */
  | { kind: 'relaunching' }
  /** Disks whose I/O error stopped the guest, as `query-block` tells after BLOCK_IO_ERROR or at re-adoption. */
  | { kind: 'disk-errors'; errors: DiskIoError[] }
  | { kind: 'exited'; code: number | null; signal: string | null };

export interface DiskIoError {
  disk: string;
  /** The image QEMU writes to (the top of the disk's chain). */
  file?: string;
  /** ENOSPC: the host filesystem holding `file` is full. */
  nospace: boolean;
}

/** One entry of QMP `query-block`, the fields read here. */
export interface BlockInfo {
  qdev?: string;
  'io-status'?: string;
  inserted?: { 'node-name'?: string; file?: string };
}

/**
 * The disks `query-block` reports stopped by an I/O error (io-status is set only when the error's
 * action was to stop the guest, and `cont` clears it). The disk id is taken from the device id
 * (`disk0-dev`, or `/machine/peripheral/disk0-dev/virtio-backend`): the node name changes with
 * every live snapshot.
 */
export function diskErrorsOf(blocks: BlockInfo[]): DiskIoError[] {
  const errors: DiskIoError[] = [];
  for (const block of blocks) {
    const status = block['io-status'];
    if (status === undefined || status === 'ok') continue;
    const disk = /(?:^|\/)([^/]+)-dev(?:\/|$)/.exec(block.qdev ?? '')?.[1] ?? block.inserted?.['node-name'] ?? 'disk';
    const error: DiskIoError = { disk, nospace: status === 'nospace' };
    if (block.inserted?.file) error.file = block.inserted.file;
    errors.push(error);
  }
  return errors;
}

/** Why the guest is paused, and what to do, in words. */
export function diskErrorReason(errors: DiskIoError[]): string {
  if (errors.length === 0) return 'A disk I/O error on the host paused the guest. Check the host disks, then Resume.';
  const full = errors.filter((e) => e.nospace);
  const failed = errors.filter((e) => !e.nospace);
  const where = (e: DiskIoError, what: string): string => (e.file ? ` (${e.file}: ${what})` : '');
  const parts: string[] = [];
  if (full.length > 0) {
    parts.push(
      ...full.map((e) => `The disk ${e.disk} ran out of space on the host${where(e, 'filesystem full')}.`),
      full.length === 1 ? 'Free space on that filesystem, then Resume.' : 'Free space on those filesystems, then Resume.',
    );
  }
  if (failed.length > 0) {
    parts.push(
      ...failed.map((e) => `The disk ${e.disk} had an I/O error on the host${where(e, 'write failed')}.`),
      'Check the host disk and its log, then Resume.',
    );
  }
  return parts.join(' ');
}

export interface StateSnapshot {
  state: MachineState;
  reason?: string;
}

export class VmStateMachine {
  private current: StateSnapshot;
  private guestShutdown = false;
  private hostStop = false;
  private paused: boolean;
  /** Disk errors that stopped the guest: the reason of the pause that follows (or already came). */
  private diskErrors: DiskIoError[] | null = null;

  constructor(initial: MachineState = 'starting') {
    this.current = { state: initial };
    this.paused = initial === 'paused';
  }

  get snapshot(): StateSnapshot {
    return this.current;
  }

  /** Apply an input; returns true when the reported state changed. */
  apply(input: StateInput): boolean {
    const before = JSON.stringify(this.current);
    this.current = this.next(input);
    return JSON.stringify(this.current) !== before;
  }

  private next(input: StateInput): StateSnapshot {
    const { state } = this.current;
    if (state === 'stopped' || state === 'crashed') return this.current;
    switch (input.kind) {
      case 'continued':
        this.paused = false;
        this.diskErrors = null;
        return state === 'starting' ? { state: 'running' } : this.current;
      case 'shutdown-requested':
        return { state: 'stopping', reason: 'ACPI shutdown requested' };
      case 'shutdown-timed-out':
        return state === 'stopping' && !this.guestShutdown ? { state: this.paused ? 'paused' : 'running' } : this.current;
      case 'poweroff-requested':
        this.hostStop = true;
        return { state: 'stopping', reason: 'power off requested' };
      case 'relaunching':
        this.guestShutdown = false;
        this.hostStop = false;
        this.paused = false;
        this.diskErrors = null;
        return { state: 'starting' };
      case 'exited':
        return this.exited(input.code, input.signal);
      case 'disk-errors':
        this.diskErrors = input.errors;
        return this.pausedState();
      case 'qmp':
        return this.qmpEvent(input.event, input.data);
    }
  }

  private qmpEvent(event: string, data: unknown): StateSnapshot {
    const { state } = this.current;
    switch (event) {
      case 'RESUME':
        this.paused = false;
        this.diskErrors = null;
        return state === 'stopping' ? this.current : { state: 'running' };
      case 'STOP':
        this.paused = true;
        return this.pausedState();
      case 'SHUTDOWN': {
        this.guestShutdown = true;
        const reason = (data as { reason?: string } | undefined)?.reason;
        return { state: 'stopping', reason: reason ? `shutdown: ${reason}` : 'shutting down' };
      }
      case 'GUEST_PANICKED':
        return { state: 'crashed', reason: 'The guest kernel panicked' };
      default:
        return this.current;
    }
  }

  /** A pause caused by disk errors says so; other pauses (the user's) say nothing. */
  private pausedState(): StateSnapshot {
    const { state } = this.current;
    if (!this.paused || state === 'stopping' || state === 'starting') return this.current;
    return this.diskErrors ? { state: 'paused', reason: diskErrorReason(this.diskErrors) } : { state: 'paused' };
  }

  private exited(code: number | null, signal: string | null): StateSnapshot {
    const clean = this.guestShutdown || this.hostStop;
    if (clean && (code === 0 || signal === 'SIGTERM' || signal === 'SIGKILL' || (code === null && signal === null))) {
      return { state: 'stopped', reason: this.current.reason };
    }
    const how = signal ? `was killed by ${signal}` : code === null ? 'exited unexpectedly' : `exited with code ${code}`;
    return { state: 'crashed', reason: `QEMU ${how}` };
  }
}
