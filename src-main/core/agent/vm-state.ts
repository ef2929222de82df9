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
  | { kind: 'exited'; code: number | null; signal: string | null };

export interface StateSnapshot {
  state: MachineState;
  reason?: string;
}

export class VmStateMachine {
  private current: StateSnapshot;
  private guestShutdown = false;
  private hostStop = false;
  private paused: boolean;

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
        return state === 'starting' ? { state: 'running' } : this.current;
      case 'shutdown-requested':
        return { state: 'stopping', reason: 'ACPI shutdown requested' };
      case 'shutdown-timed-out':
        return state === 'stopping' && !this.guestShutdown ? { state: this.paused ? 'paused' : 'running' } : this.current;
      case 'poweroff-requested':
        this.hostStop = true;
        return { state: 'stopping', reason: 'power off requested' };
      case 'exited':
        return this.exited(input.code, input.signal);
      case 'qmp':
        return this.qmpEvent(input.event, input.data);
    }
  }

  private qmpEvent(event: string, data: unknown): StateSnapshot {
    const { state } = this.current;
    switch (event) {
      case 'RESUME':
        this.paused = false;
        return state === 'stopping' ? this.current : { state: 'running' };
      case 'STOP':
        this.paused = true;
        return state === 'stopping' || state === 'starting' ? this.current : { state: 'paused' };
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

  private exited(code: number | null, signal: string | null): StateSnapshot {
    const clean = this.guestShutdown || this.hostStop;
    if (clean && (code === 0 || signal === 'SIGTERM' || signal === 'SIGKILL' || (code === null && signal === null))) {
      return { state: 'stopped', reason: this.current.reason };
    }
    const how = signal ? `was killed by ${signal}` : code === null ? 'exited unexpectedly' : `exited with code ${code}`;
    return { state: 'crashed', reason: `QEMU ${how}` };
  }
}
