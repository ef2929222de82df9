import { describe, expect, it } from 'vitest';
import { fakeHost } from './test-fixtures';
import { OS_TYPE_OPTIONS, presetFor, uefiUnavailableReason } from './presets';

describe('presetFor', () => {
  it('returns the OS preset unchanged on a roomy host', () => {
    expect(presetFor('windows', fakeHost())).toEqual({ memoryMiB: 4096, cpus: 2, diskGiB: 64, firmware: 'uefi' });
    expect(presetFor('linux', null)).toEqual({ memoryMiB: 2048, cpus: 2, diskGiB: 20, firmware: 'bios' });
  });

  it('fits memory to half the host (256 MiB steps) and CPUs to its cores', () => {
    expect(presetFor('windows', fakeHost({ memoryMiB: 3000, cpus: 1 }))).toMatchObject({ memoryMiB: 1280, cpus: 1 });
    expect(presetFor('linux', fakeHost({ memoryMiB: 300 }))).toMatchObject({ memoryMiB: 256 });
  });

  it('falls back to BIOS when OVMF is missing', () => {
    const host = fakeHost({ firmware: { ovmfCode: null, ovmfVars: null, seabios: true, ipxe: false } });
    expect(presetFor('windows', host).firmware).toBe('bios');
    expect(uefiUnavailableReason(host)).toMatch(/OVMF/);
    expect(uefiUnavailableReason(fakeHost())).toBeNull();
    expect(uefiUnavailableReason(null)).toBeNull();
  });

  it('lists every OS type with a label', () => {
    expect(OS_TYPE_OPTIONS.map((o) => o.value)).toEqual(['linux', 'windows', 'bsd', 'other']);
    expect(OS_TYPE_OPTIONS.every((o) => o.label.length > 0)).toBe(true);
  });
});
