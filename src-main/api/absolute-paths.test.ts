// Host paths that enter the core through the API are absolute: the core never resolves one against
// its own working directory (the server's, the app's), which the user never chose.
import { describe, expect, it } from 'vitest';
import { createMachineInputSchema } from './operations.js';
import { addDiskInputSchema, moveTargetSchema } from './storage.js';
import { importOptionsSchema } from './portability.js';

describe('host paths at the API', () => {
  it.each([
    ['createMachine importDisk', () => createMachineInputSchema.safeParse({ name: 'x', importDisk: 'disk.qcow2' })],
    ['createMachine attachDisk', () => createMachineInputSchema.safeParse({ name: 'x', attachDisk: '../disk.qcow2' })],
    ['createMachine iso', () => createMachineInputSchema.safeParse({ name: 'x', iso: 'x.iso' })],
    ['createMachine kernel', () => createMachineInputSchema.safeParse({ name: 'x', kernelBoot: { kernel: 'vmlinuz' } })],
    ['createMachine initrd', () => createMachineInputSchema.safeParse({ name: 'x', kernelBoot: { kernel: '/k', initrd: 'i' } })],
    ['createMachine trustBacking', () => createMachineInputSchema.safeParse({ name: 'x', attachDisk: '/a', trustBacking: ['b'] })],
    ['addDisk file', () => addDiskInputSchema.safeParse({ file: 'disk.qcow2' })],
    ['importAppliance trustBacking', () => importOptionsSchema.safeParse({ trustBacking: ['base.qcow2'] })],
    ['moveMachine target', () => moveTargetSchema.safeParse('vms')],
  ])('refuses a relative path: %s', (_what, parse) => {
    const r = parse();
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('must be absolute');
  });

  it('takes absolute ones', () => {
    expect(createMachineInputSchema.safeParse({ name: 'x', attachDisk: '/vm/a.qcow2', trustBacking: ['/vm/b.qcow2'] }).success).toBe(true);
    expect(addDiskInputSchema.safeParse({ file: '/vm/a.qcow2' }).success).toBe(true);
    expect(moveTargetSchema.safeParse('/srv/vms').success).toBe(true);
  });
});
