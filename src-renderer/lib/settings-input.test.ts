import { defaultResources } from '../../src-main/api/machine-config';
import { describe, expect, it } from 'vitest';
import type { MachineConfig } from '../../src-main/api/machine-config';
import { modifyMachineInputSchema } from '../../src-main/api/operations';
import { fakeHost } from './test-fixtures';
import { bootOrderOf, moveBootDevice, settingsChanges, settingsErrors, settingsFormFrom } from './settings-input';

const config: MachineConfig = {
  version: 1,
  uuid: '0b5e9d54-7c1e-4b7e-9a59-3f1c1f0c2a11',
  name: 'vm1',
  osType: 'linux',
  cpus: 2,
  memoryMiB: 1024,
  firmware: 'bios',
  bootOrder: ['disk', 'cdrom'],
  disks: [{ id: 'disk0', file: 'disks/disk0.qcow2', format: 'qcow2', bus: 'virtio', readOnly: false }],
  cdrom: { file: null },
  kernelBoot: { kernel: '/boot/vmlinuz', initrd: null, cmdline: 'console=ttyS0' },
  nics: [],
  display: { adapter: 'std' },
  serial: { enabled: true },
  resources: defaultResources(),
  notes: '',
  createdAt: '2026-11-25T10:00:00.000Z',
};
const host = fakeHost();

describe('settings form', () => {
  it('round-trips a config with no changes', () => {
    const form = settingsFormFrom(config);
    expect(form.boot).toEqual([
      { device: 'disk', enabled: true },
      { device: 'cdrom', enabled: true },
      { device: 'network', enabled: false },
    ]);
    expect(settingsChanges(form, config)).toEqual({});
    expect(settingsErrors(form, config, new Set(['vm1', 'other']), host)).toEqual({});
  });

  it('sends only the changed fields, valid for modifyMachine', () => {
    const form = { ...settingsFormFrom(config), memoryMiB: 2048, notes: 'hello', serial: false, iso: '/x.iso' };
    const changes = settingsChanges(form, config);
    expect(changes).toEqual({ memoryMiB: 2048, notes: 'hello', serial: false, iso: '/x.iso' });
    expect(modifyMachineInputSchema.safeParse(changes).success).toBe(true);
  });

  it('ejects with iso null and drops kernel boot with null', () => {
    const withIso = { ...config, cdrom: { file: '/x.iso' } };
    expect(settingsChanges({ ...settingsFormFrom(withIso), iso: '', kernelBoot: false }, withIso)).toEqual({ iso: null, kernelBoot: null });
  });

  it('sends the whole kernel boot when a part of it changed', () => {
    const form = { ...settingsFormFrom(config), initrd: '/boot/initrd.img' };
    expect(settingsChanges(form, config)).toEqual({
      kernelBoot: { kernel: '/boot/vmlinuz', initrd: '/boot/initrd.img', cmdline: 'console=ttyS0' },
    });
  });

  it('reorders and toggles boot devices', () => {
    const form = settingsFormFrom(config);
    form.boot = moveBootDevice(form.boot, 1, -1);
    expect(bootOrderOf(form)).toEqual(['cdrom', 'disk']);
    expect(moveBootDevice(form.boot, 0, -1)).toBe(form.boot);
    form.boot[2]!.enabled = true;
    expect(settingsChanges(form, config)).toEqual({ bootOrder: ['cdrom', 'disk', 'network'] });
    form.boot.forEach((b) => (b.enabled = false));
    expect(settingsErrors(form, config, new Set(), host).boot).toMatch(/at least one/);
  });

  it('rejects a clashing name and an empty kernel path', () => {
    const form = { ...settingsFormFrom(config), name: 'other', kernel: '' };
    const errors = settingsErrors(form, config, new Set(['vm1', 'other']), host);
    expect(errors.name).toMatch(/already exists/);
    expect(errors.kernel).toBeDefined();
  });
});
