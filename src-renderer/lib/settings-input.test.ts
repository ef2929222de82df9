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

describe('settings form: memory and processor resources', () => {
  const form = () => settingsFormFrom(config);

  it('shows the defaults: balloon on, minimum auto (half), shares 100, no cap, no pinning', () => {
    const f = form();
    expect(f).toMatchObject({ balloon: true, memoryMinAuto: true, memoryMinMiB: 512, memoryShares: 100, pageSharing: true });
    expect(f).toMatchObject({ cpuCapOn: false, cpuShares: 100, pinning: '' });
  });

  it('sends the changed resource fields, valid for modifyMachine', () => {
    const f = { ...form(), balloon: false, memoryMinAuto: false, memoryMinMiB: 256, memoryShares: 300, cpuCapOn: true, cpuCap: 150 };
    const changes = settingsChanges({ ...f, cpuShares: 50, pinning: ' 1:0, 0:3 ', pageSharing: false }, config);
    expect(changes).toEqual({
      balloon: false,
      memoryMinMiB: 256,
      memoryShares: 300,
      pageSharing: false,
      cpuCap: 150,
      cpuShares: 50,
      cpuPinning: [
        { vcpu: 0, hostCpu: 3 },
        { vcpu: 1, hostCpu: 0 },
      ],
    });
    expect(modifyMachineInputSchema.safeParse(changes).success).toBe(true);
  });

  it('turns a set minimum, a cap and a pinning off with null and []', () => {
    const set = { ...config, resources: { ...config.resources, memoryMinMiB: 300, cpuCap: 50, cpuPinning: [{ vcpu: 0, hostCpu: 1 }] } };
    const f = settingsFormFrom(set);
    expect(f).toMatchObject({ memoryMinAuto: false, memoryMinMiB: 300, cpuCapOn: true, cpuCap: 50, pinning: '0:1' });
    expect(settingsChanges(f, set)).toEqual({});
    expect(settingsChanges({ ...f, memoryMinAuto: true, cpuCapOn: false, pinning: '' }, set)).toEqual({
      memoryMinMiB: null,
      cpuCap: null,
      cpuPinning: [],
    });
  });

  it('refuses a minimum above the memory, with the core’s words', () => {
    const errors = settingsErrors({ ...form(), memoryMinAuto: false, memoryMinMiB: 2048 }, config, new Set(), host);
    expect(errors.memoryMinMiB).toBe("The minimum memory (2048 MiB) is above the machine's memory (1024 MiB)");
    // Lowering the memory below a set minimum is caught too.
    const lowered = settingsErrors({ ...form(), memoryMinAuto: false, memoryMinMiB: 600, memoryMiB: 512 }, config, new Set(), host);
    expect(lowered.memoryMinMiB).toMatch(/above the machine's memory \(512 MiB\)/);
    expect(settingsErrors({ ...form(), memoryMinAuto: true, memoryMinMiB: 99999 }, config, new Set(), host).memoryMinMiB).toBeUndefined();
  });

  it('refuses a cap of 0 and one above 100 % per vCPU, only when the cap is on', () => {
    const errors = (cpuCap: number, cpuCapOn = true) => settingsErrors({ ...form(), cpuCapOn, cpuCap }, config, new Set(), host).cpuCap;
    expect(errors(0)).toMatch(/at least 1 %/);
    expect(errors(201)).toBe('A CPU cap of 201 % is more than 2 vCPUs can use (at most 200 %)');
    expect(errors(200)).toBeUndefined();
    expect(errors(0, false)).toBeUndefined();
  });

  it('refuses shares outside 1–10000', () => {
    const errors = settingsErrors({ ...form(), memoryShares: 0, cpuShares: 10001 }, config, new Set(), host);
    expect(errors.memoryShares).toMatch(/1 to 10000/);
    expect(errors.cpuShares).toMatch(/1 to 10000/);
  });

  it('refuses a pinning that does not parse, names a vCPU the machine lacks, a host CPU the host lacks, or a vCPU twice', () => {
    const pinError = (pinning: string) => settingsErrors({ ...form(), pinning }, config, new Set(), host).pinning;
    expect(pinError('0-1')).toMatch(/"0-1" is not a pinning/);
    expect(pinError('2:0')).toBe('vCPU 2 is pinned but the machine has 2 vCPUs');
    expect(pinError('0:4')).toBe('Host CPU 4 does not exist: this host has 4 CPUs (0–3)');
    expect(pinError('0:1,0:2')).toBe('Each vCPU may be pinned only once');
    expect(pinError('0:3, 1:0')).toBeUndefined();
    // Nothing is sent while the field is wrong.
    expect(settingsChanges({ ...form(), pinning: '0-1' }, config)).toEqual({});
  });
});
