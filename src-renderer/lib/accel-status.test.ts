import { describe, expect, it } from 'vitest';
import { accelStatus, asSentence } from './accel-status';

const kvmMissing = { available: false, reason: '/dev/kvm does not exist (no hardware virtualization, or the kvm module is not loaded)' };

describe('the accelerator in the status bar', () => {
  it('says KVM plainly, with nothing to explain', () => {
    expect(accelStatus({ preferredAccel: 'kvm', accelerators: { kvm: { available: true }, tcg: { available: true } } })).toEqual({
      warn: false,
      text: 'Accelerator: KVM',
      reason: null,
    });
  });

  it("warns about TCG with the probe's reason as a sentence", () => {
    expect(accelStatus({ preferredAccel: 'tcg', accelerators: { kvm: kvmMissing, tcg: { available: true } } })).toEqual({
      warn: true,
      text: 'Accelerator: TCG (software emulation, guests run slowly)',
      reason: '/dev/kvm does not exist (no hardware virtualization, or the kvm module is not loaded).',
    });
    const noPermission = { available: false, reason: 'no permission to open /dev/kvm (add your user to the kvm group)' };
    expect(accelStatus({ preferredAccel: 'tcg', accelerators: { kvm: noPermission, tcg: { available: true } } }).reason).toBe(
      'No permission to open /dev/kvm (add your user to the kvm group).',
    );
  });

  it('says when QEMU has no accelerator at all', () => {
    const status = accelStatus({ preferredAccel: null, accelerators: { kvm: { available: false }, tcg: { available: false } } });
    expect(status).toEqual({ warn: true, text: 'No accelerator: QEMU cannot run guests', reason: 'KVM is not available.' });
  });

  it('ends a sentence once', () => {
    expect(asSentence('done.')).toBe('Done.');
    expect(asSentence('  ')).toBe('');
  });
});
