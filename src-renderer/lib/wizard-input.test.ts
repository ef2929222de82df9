import { describe, expect, it } from 'vitest';
import { createMachineInputSchema } from '../../src-main/api/operations';
import { fakeHost } from './test-fixtures';
import {
  asksForDiskSize,
  defaultWizardForm,
  makesDisk,
  nameError,
  pathError,
  resourceWarnings,
  stepErrors,
  toCreateInput,
  wizardErrors,
  type WizardForm,
} from './wizard-input';

const host = fakeHost();
const form = (over: Partial<WizardForm> = {}): WizardForm => ({ ...defaultWizardForm(host), name: 'vm1', ...over });

describe('validation', () => {
  it('checks names with the API schema and against existing machines', () => {
    expect(nameError('Debian 13', new Set())).toBeNull();
    expect(nameError('', new Set())).toMatch(/empty/);
    expect(nameError('a/b', new Set())).toMatch(/letters/);
    expect(nameError('x..y', new Set())).toMatch(/\.\./);
    expect(nameError('vm1', new Set(['vm1']))).toMatch(/already exists/);
    expect(nameError('vm1', new Set(['vm1']), 'vm1')).toBeNull();
  });

  it('requires the path of the chosen boot source only', () => {
    expect(pathError('', true)).toMatch(/path/);
    expect(pathError('', false)).toBeNull();
    expect(pathError('/a\nb', false)).toMatch(/control/);
    expect(wizardErrors(form({ boot: 'iso' }), new Set(), host).iso).toBeDefined();
    expect(wizardErrors(form({ boot: 'demo' }), new Set(), host).iso).toBeUndefined();
    expect(wizardErrors(form({ boot: 'kernel', kernel: '/k' }), new Set(), host)).toEqual({});
  });

  it('refuses more memory than the host has, and UEFI without OVMF', () => {
    expect(wizardErrors(form({ memoryMiB: 20000 }), new Set(), host).memoryMiB).toMatch(/16384/);
    const noOvmf = fakeHost({ firmware: { ovmfCode: null, ovmfVars: null, seabios: true, ipxe: false } });
    expect(wizardErrors(form({ firmware: 'uefi' }), new Set(), noOvmf).firmware).toMatch(/OVMF/);
  });

  it('groups errors by step', () => {
    const errors = wizardErrors(form({ name: '', boot: 'iso', cpus: 0 }), new Set(), host);
    expect(stepErrors(0, errors)).toHaveLength(1);
    expect(stepErrors(1, errors)).toHaveLength(1);
    expect(stepErrors(2, errors)).toEqual(['At least 1 CPU']);
    expect(stepErrors(3, errors)).toEqual([]);
  });
});

describe('resourceWarnings', () => {
  it('warns (does not refuse) on oversubscription', () => {
    expect(resourceWarnings(2, 1024, host)).toEqual({});
    const w = resourceWarnings(8, 10000, host);
    expect(w.cpus).toMatch(/4 cores/);
    expect(w.memory).toMatch(/8192 MiB free/);
    expect(resourceWarnings(8, 10000, null)).toEqual({});
  });
});

describe('toCreateInput', () => {
  const valid = (f: WizardForm) => {
    const input = toCreateInput(f);
    expect(createMachineInputSchema.safeParse(input).success).toBe(true);
    return input;
  };

  it('makes a demo machine without a disk size (the core brings the demo disk)', () => {
    expect(valid(form({ boot: 'demo', diskGiB: 20 }))).toEqual({
      name: 'vm1',
      osType: 'linux',
      cpus: 2,
      memoryMiB: 2048,
      firmware: 'bios',
      network: 'nat',
      demo: true,
    });
    expect(asksForDiskSize('demo')).toBe(false);
  });

  it('turns GiB into bytes, and 0 GiB into no disk', () => {
    expect(valid(form({ boot: 'iso', iso: '/x.iso', diskGiB: 2 }))).toMatchObject({ iso: '/x.iso', diskBytes: 2 * 1024 ** 3 });
    expect(valid(form({ boot: 'none', diskGiB: 0 })).diskBytes).toBeUndefined();
  });

  it('imports or attaches an existing disk, never adding an empty one', () => {
    expect(valid(form({ boot: 'disk', diskPath: '/d.qcow2', diskMode: 'import' }))).toMatchObject({ importDisk: '/d.qcow2' });
    const attached = valid(form({ boot: 'disk', diskPath: '/d.qcow2', diskMode: 'attach' }));
    expect(attached).toMatchObject({ attachDisk: '/d.qcow2' });
    expect(attached.diskBytes).toBeUndefined();
    expect(attached.importDisk).toBeUndefined();
  });

  it('encrypts a disk VMDesk makes only, with a passphrase of 8 characters or more typed the same twice', () => {
    const encrypting = { encrypt: true, passphrase: 'long enough', passphraseAgain: 'long enough' };
    expect(valid(form({ ...encrypting })).passphrase).toBe('long enough');
    expect(valid(form({ boot: 'iso', iso: '/x.iso', diskGiB: 2, ...encrypting })).passphrase).toBe('long enough');
    expect(valid(form({ boot: 'disk', diskPath: '/d.qcow2', diskMode: 'import', ...encrypting })).passphrase).toBe('long enough');
    // Nothing VMDesk makes, nothing to encrypt: the checkbox is not shown and nothing is sent.
    expect(makesDisk(form({ boot: 'disk', diskMode: 'attach' }))).toBe(false);
    expect(valid(form({ boot: 'disk', diskPath: '/d.qcow2', diskMode: 'attach', ...encrypting })).passphrase).toBeUndefined();
    expect(valid(form({ boot: 'none', diskGiB: 0, ...encrypting })).passphrase).toBeUndefined();
    expect(valid(form({ passphrase: 'long enough' })).passphrase).toBeUndefined();
    expect(wizardErrors(form({ encrypt: true, passphrase: 'short', passphraseAgain: 'short' }), new Set(), host).passphrase).toMatch(
      /at least 8 characters/,
    );
    const differ = wizardErrors(form({ encrypt: true, passphrase: 'long enough', passphraseAgain: 'long enougH' }), new Set(), host);
    expect(differ.passphraseAgain).toBe('The two passphrases differ');
    expect(stepErrors(2, differ)).toEqual(['The two passphrases differ']);
  });

  it('sends kernel boot with only the parts given', () => {
    expect(valid(form({ boot: 'kernel', kernel: '/k', diskGiB: 0 })).kernelBoot).toEqual({ kernel: '/k' });
    expect(valid(form({ boot: 'kernel', kernel: '/k', initrd: '/i', cmdline: 'console=ttyS0' })).kernelBoot).toEqual({
      kernel: '/k',
      initrd: '/i',
      cmdline: 'console=ttyS0',
    });
  });

  it('keeps the network choice', () => {
    expect(valid(form({ network: 'none' })).network).toBe('none');
  });
});
