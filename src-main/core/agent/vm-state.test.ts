import { describe, expect, it } from 'vitest';
import { VmStateMachine } from './vm-state.js';

describe('VmStateMachine', () => {
  it('starting → running on cont, paused on STOP, running on RESUME', () => {
    const sm = new VmStateMachine();
    expect(sm.snapshot.state).toBe('starting');
    sm.apply({ kind: 'qmp', event: 'STOP' });
    expect(sm.snapshot.state).toBe('starting');
    sm.apply({ kind: 'continued' });
    expect(sm.snapshot.state).toBe('running');
    expect(sm.apply({ kind: 'qmp', event: 'STOP' })).toBe(true);
    expect(sm.snapshot.state).toBe('paused');
    sm.apply({ kind: 'qmp', event: 'RESUME' });
    expect(sm.snapshot.state).toBe('running');
  });

  it('ACPI shutdown: stopping, then stopped when QEMU exits 0 after SHUTDOWN', () => {
    const sm = new VmStateMachine('running');
    sm.apply({ kind: 'shutdown-requested' });
    expect(sm.snapshot.state).toBe('stopping');
    sm.apply({ kind: 'qmp', event: 'SHUTDOWN', data: { guest: true, reason: 'guest-shutdown' } });
    sm.apply({ kind: 'exited', code: 0, signal: null });
    expect(sm.snapshot).toEqual({ state: 'stopped', reason: 'shutdown: guest-shutdown' });
  });

  it('a guest that ignores ACPI returns to running after the timeout', () => {
    const sm = new VmStateMachine('running');
    sm.apply({ kind: 'shutdown-requested' });
    sm.apply({ kind: 'shutdown-timed-out' });
    expect(sm.snapshot.state).toBe('running');
  });

  it('an exit nobody asked for is a crash', () => {
    const sm = new VmStateMachine('running');
    sm.apply({ kind: 'exited', code: null, signal: 'SIGKILL' });
    expect(sm.snapshot).toEqual({ state: 'crashed', reason: 'QEMU was killed by SIGKILL' });
    sm.apply({ kind: 'qmp', event: 'RESUME' });
    expect(sm.snapshot.state).toBe('crashed');
  });

  it('power off: killed after the request is a clean stop', () => {
    const sm = new VmStateMachine('paused');
    sm.apply({ kind: 'poweroff-requested' });
    sm.apply({ kind: 'exited', code: null, signal: 'SIGKILL' });
    expect(sm.snapshot.state).toBe('stopped');
  });

  it('a guest panic is reported as crashed', () => {
    const sm = new VmStateMachine('running');
    sm.apply({ kind: 'qmp', event: 'GUEST_PANICKED', data: { action: 'pause' } });
    expect(sm.snapshot).toEqual({ state: 'crashed', reason: 'The guest kernel panicked' });
  });

  it('QEMU failing with code 1 before running is a crash with the code', () => {
    const sm = new VmStateMachine();
    sm.apply({ kind: 'exited', code: 1, signal: null });
    expect(sm.snapshot).toEqual({ state: 'crashed', reason: 'QEMU exited with code 1' });
  });
});
