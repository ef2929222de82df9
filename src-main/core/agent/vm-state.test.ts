import { describe, expect, it } from 'vitest';
import { VmStateMachine, diskErrorsOf, type BlockInfo } from './vm-state.js';

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

  it('a relaunch in place starts afresh: from paused by a disk error to starting, then running on cont', () => {
    const sm = new VmStateMachine('running');
    sm.apply({ kind: 'disk-errors', errors: [{ disk: 'disk0', nospace: true }] });
    sm.apply({ kind: 'qmp', event: 'STOP' });
    expect(sm.snapshot.state).toBe('paused');
    expect(sm.apply({ kind: 'relaunching' })).toBe(true);
    expect(sm.snapshot).toEqual({ state: 'starting' });
    sm.apply({ kind: 'continued' });
    expect(sm.snapshot).toEqual({ state: 'running' });
    // The old QEMU was asked to quit, the new one was not: its exit is a crash.
    sm.apply({ kind: 'exited', code: 1, signal: null });
    expect(sm.snapshot).toEqual({ state: 'crashed', reason: 'QEMU exited with code 1' });
  });

  it('a relaunch abandoned (its client gone before QEMU was started again) is a clean stop', () => {
    const sm = new VmStateMachine('running');
    sm.apply({ kind: 'relaunching' });
    sm.apply({ kind: 'poweroff-requested' });
    sm.apply({ kind: 'exited', code: null, signal: null });
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

  const FULL =
    'The disk disk0 ran out of space on the host (/lib/x/disks/disk0.qcow2: filesystem full). Free space on that filesystem, then Resume.';
  const fullDisk: BlockInfo[] = [
    {
      qdev: '/machine/peripheral/disk0-dev/virtio-backend',
      'io-status': 'nospace',
      inserted: { 'node-name': 'disk0-1a2b3c4d', file: '/lib/x/disks/disk0.qcow2' },
    },
    { qdev: 'cd0-dev', 'io-status': 'ok' },
  ];

  it('a guest stopped by a full host disk is paused with the reason and what to do; Resume clears it', () => {
    const sm = new VmStateMachine('running');
    // QEMU sends BLOCK_IO_ERROR before STOP; the agent's query-block answer may come before or after STOP.
    sm.apply({ kind: 'qmp', event: 'BLOCK_IO_ERROR', data: { 'node-name': 'disk0', action: 'stop', nospace: true } });
    sm.apply({ kind: 'disk-errors', errors: diskErrorsOf(fullDisk) });
    expect(sm.snapshot.state).toBe('running');
    sm.apply({ kind: 'qmp', event: 'STOP' });
    expect(sm.snapshot).toEqual({ state: 'paused', reason: FULL });
    sm.apply({ kind: 'qmp', event: 'RESUME' });
    expect(sm.snapshot).toEqual({ state: 'running' });
    // STOP first, then the answer; a later pause by the user has no reason.
    sm.apply({ kind: 'qmp', event: 'STOP' });
    expect(sm.snapshot).toEqual({ state: 'paused' });
    expect(sm.apply({ kind: 'disk-errors', errors: diskErrorsOf(fullDisk) })).toBe(true);
    expect(sm.snapshot).toEqual({ state: 'paused', reason: FULL });
    sm.apply({ kind: 'qmp', event: 'RESUME' });
    sm.apply({ kind: 'qmp', event: 'STOP' });
    expect(sm.snapshot).toEqual({ state: 'paused' });
  });

  it('a re-adopted guest stopped on io-error gets its reason back from query-block', () => {
    const sm = new VmStateMachine('starting');
    sm.apply({ kind: 'continued' });
    sm.apply({ kind: 'qmp', event: 'STOP' });
    sm.apply({ kind: 'disk-errors', errors: diskErrorsOf(fullDisk) });
    expect(sm.snapshot).toEqual({ state: 'paused', reason: FULL });
  });

  it('reads disk ids from SATA and virtio device ids; other errors and unknown files are said as such', () => {
    const errors = diskErrorsOf([
      { qdev: 'disk1-dev', 'io-status': 'failed', inserted: { 'node-name': 'disk1', file: '/d/disk1.qcow2' } },
      { qdev: '/machine/peripheral/disk2-dev/virtio-backend', 'io-status': 'nospace', inserted: { 'node-name': 'disk2' } },
      { qdev: 'disk0-dev', 'io-status': 'ok', inserted: { 'node-name': 'disk0', file: '/d/disk0.qcow2' } },
    ]);
    expect(errors).toEqual([
      { disk: 'disk1', file: '/d/disk1.qcow2', nospace: false },
      { disk: 'disk2', nospace: true },
    ]);
    const sm = new VmStateMachine('paused');
    sm.apply({ kind: 'disk-errors', errors });
    expect(sm.snapshot.reason).toBe(
      'The disk disk2 ran out of space on the host. Free space on that filesystem, then Resume. ' +
        'The disk disk1 had an I/O error on the host (/d/disk1.qcow2: write failed). Check the host disk and its log, then Resume.',
    );
    sm.apply({ kind: 'disk-errors', errors: [] });
    expect(sm.snapshot.reason).toBe('A disk I/O error on the host paused the guest. Check the host disks, then Resume.');
  });

  it('a disk error does not turn a shutdown in progress into a pause', () => {
    const sm = new VmStateMachine('running');
    sm.apply({ kind: 'shutdown-requested' });
    sm.apply({ kind: 'disk-errors', errors: diskErrorsOf(fullDisk) });
    sm.apply({ kind: 'qmp', event: 'STOP' });
    expect(sm.snapshot).toEqual({ state: 'stopping', reason: 'ACPI shutdown requested' });
  });
});
