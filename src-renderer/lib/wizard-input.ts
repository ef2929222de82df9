/**
 * The New machine wizard's form state and the pure rules on it: what each step lets through, the
 * oversubscription warnings, and the CreateMachineInput it becomes. Validation uses the API's own
 * schemas, so the wizard refuses exactly what the core would.
 */
import type { ZodType } from 'zod';
import type { HostCapabilities } from '../../src-main/api/types';
import {
  MAX_CPUS,
  MIN_MEMORY_MIB,
  MAX_MEMORY_MIB,
  hostPathSchema,
  machineNameSchema,
  newPassphraseSchema,
} from '../../src-main/api/machine-config';
import { createMachineInputSchema, kernelBootInputSchema, type CreateMachineInput } from '../../src-main/api/operations';
import { t, wordsOf } from '../i18n';
import { localizeApiMessage } from '../i18n/core-messages';
import type { OsType } from './machine-info';
import { presetFor, uefiUnavailableReason } from './presets';

export type BootSource = 'demo' | 'iso' | 'disk' | 'kernel' | 'none';
export type DiskMode = 'import' | 'attach';

export interface WizardForm {
  name: string;
  osType: OsType;
  boot: BootSource;
  iso: string;
  diskPath: string;
  diskMode: DiskMode;
  kernel: string;
  initrd: string;
  cmdline: string;
  memoryMiB: number;
  cpus: number;
  diskGiB: number;
  firmware: 'bios' | 'uefi';
  network: 'nat' | 'none';
  /** The disk VMDesk makes (new, imported or the demo's) encrypted with `passphrase`, typed twice. */
  encrypt: boolean;
  passphrase: string;
  passphraseAgain: string;
}

export type WizardField = keyof WizardForm;
export type FieldErrors = Partial<Record<WizardField, string>>;

export const WIZARD_STEPS = ['name', 'media', 'hardware', 'summary'] as const;
export type WizardStep = (typeof WIZARD_STEPS)[number];
export const WIZARD_STEP_LABELS = wordsOf<WizardStep>({
  name: 'wizard.steps.name',
  media: 'wizard.steps.media',
  hardware: 'wizard.steps.hardware',
  summary: 'wizard.steps.summary',
});
/** The fields each step checks before Next. */
export const STEP_FIELDS: readonly (readonly WizardField[])[] = [
  ['name', 'osType'],
  ['iso', 'diskPath', 'kernel', 'initrd', 'cmdline'],
  ['memoryMiB', 'cpus', 'diskGiB', 'firmware', 'passphrase', 'passphraseAgain'],
  [],
];

export const BOOT_SOURCE_LABELS = wordsOf<BootSource>({
  demo: 'wizard.boot.demo',
  iso: 'wizard.boot.iso',
  disk: 'wizard.boot.disk',
  kernel: 'wizard.boot.kernel',
  none: 'wizard.boot.none',
});

export const MAX_DISK_GIB = 64 * 1024;
const GIB = 1024 ** 3;

export function defaultWizardForm(host: HostCapabilities | null): WizardForm {
  return {
    name: '',
    osType: 'linux',
    boot: 'demo',
    iso: '',
    diskPath: '',
    diskMode: 'import',
    kernel: '',
    initrd: '',
    cmdline: '',
    network: 'nat',
    encrypt: false,
    passphrase: '',
    passphraseAgain: '',
    ...presetFor('linux', host),
  };
}

/** The demo guest brings its own disk and an existing image is the disk: no new empty disk then. */
export function asksForDiskSize(boot: BootSource): boolean {
  return boot !== 'demo' && boot !== 'disk';
}

/** Whether VMDesk makes a disk of its own (which can be encrypted): the demo's, a new one or an imported one. */
export function makesDisk(form: Pick<WizardForm, 'boot' | 'diskMode' | 'diskGiB'>): boolean {
  if (form.boot === 'demo') return true;
  if (form.boot === 'disk') return form.diskMode === 'import';
  return form.diskGiB > 0;
}

function firstIssue(schema: ZodType, value: unknown): string | null {
  const r = schema.safeParse(value);
  return r.success ? null : localizeApiMessage(r.error.issues[0]?.message ?? t('errors.invalidValue'));
}

export function nameError(name: string, takenNames: ReadonlySet<string>, ownName?: string): string | null {
  const issue = firstIssue(machineNameSchema, name);
  if (issue) return issue;
  if (name !== ownName && takenNames.has(name)) return t('wizard.nameTaken', { name });
  return null;
}

/** A host path typed by hand (the browser cannot pick one); optional ones may stay empty. */
export function pathError(value: string, required: boolean): string | null {
  if (value === '') return required ? t('wizard.pathMissing') : null;
  return firstIssue(hostPathSchema, value);
}

/** Memory beyond what the host has is refused by the core; within it, a number is all we need. */
export function memoryError(memoryMiB: number, host: HostCapabilities | null): string | null {
  if (!Number.isInteger(memoryMiB)) return t('wizard.memoryWhole');
  if (memoryMiB < MIN_MEMORY_MIB) return t('wizard.memoryAtLeast', { mib: MIN_MEMORY_MIB });
  if (memoryMiB > MAX_MEMORY_MIB) return t('wizard.memoryTooMuch');
  if (host && memoryMiB > host.memoryMiB) return t('wizard.memoryHostHas', { mib: host.memoryMiB });
  return null;
}

export function cpusError(cpus: number): string | null {
  if (!Number.isInteger(cpus) || cpus < 1) return t('wizard.cpusAtLeast');
  if (cpus > MAX_CPUS) return t('wizard.cpusAtMost', { max: MAX_CPUS });
  return null;
}

/** Oversubscription is allowed (as in VirtualBox) but said out loud. */
export function resourceWarnings(cpus: number, memoryMiB: number, host: HostCapabilities | null): { cpus?: string; memory?: string } {
  if (!host) return {};
  const w: { cpus?: string; memory?: string } = {};
  if (cpus > host.cpus) w.cpus = t('wizard.cpusOversubscribed', { cores: host.cpus });
  if (memoryMiB <= host.memoryMiB && memoryMiB > host.freeMemoryMiB)
    w.memory = t('wizard.memoryOversubscribed', { mib: host.freeMemoryMiB });
  return w;
}

export function wizardErrors(form: WizardForm, takenNames: ReadonlySet<string>, host: HostCapabilities | null): FieldErrors {
  const errors: FieldErrors = {};
  const set = (field: WizardField, message: string | null): void => {
    if (message) errors[field] = message;
  };
  set('name', nameError(form.name, takenNames));
  if (form.boot === 'iso') set('iso', pathError(form.iso, true));
  if (form.boot === 'disk') set('diskPath', pathError(form.diskPath, true));
  if (form.boot === 'kernel') {
    set('kernel', pathError(form.kernel, true));
    set('initrd', pathError(form.initrd, false));
    set('cmdline', firstIssue(kernelBootInputSchema.shape.cmdline, form.cmdline));
  }
  set('memoryMiB', memoryError(form.memoryMiB, host));
  set('cpus', cpusError(form.cpus));
  if (asksForDiskSize(form.boot) && (!Number.isInteger(form.diskGiB) || form.diskGiB < 0 || form.diskGiB > MAX_DISK_GIB))
    errors.diskGiB = t('wizard.diskSizeRange', { max: MAX_DISK_GIB });
  if (form.firmware === 'uefi') set('firmware', uefiUnavailableReason(host));
  if (form.encrypt && makesDisk(form)) {
    set('passphrase', firstIssue(newPassphraseSchema, form.passphrase));
    if (form.passphraseAgain !== form.passphrase) errors.passphraseAgain = t('wizard.passphrasesDiffer');
  }
  return errors;
}

/** The errors that keep step `step` (0-based) from going on. */
export function stepErrors(step: number, errors: FieldErrors): string[] {
  return (STEP_FIELDS[step] ?? []).flatMap((f) => (errors[f] ? [errors[f]] : []));
}

export function toCreateInput(form: WizardForm): CreateMachineInput {
  const input: CreateMachineInput = {
    name: form.name,
    osType: form.osType,
    cpus: form.cpus,
    memoryMiB: form.memoryMiB,
    firmware: form.firmware,
    network: form.network,
  };
  if (asksForDiskSize(form.boot) && form.diskGiB > 0) input.diskBytes = form.diskGiB * GIB;
  if (form.encrypt && makesDisk(form)) input.passphrase = form.passphrase;
  switch (form.boot) {
    case 'demo':
      input.demo = true;
      break;
    case 'iso':
      input.iso = form.iso;
      break;
    case 'disk':
      if (form.diskMode === 'import') input.importDisk = form.diskPath;
      else input.attachDisk = form.diskPath;
      break;
    case 'kernel':
      input.kernelBoot = {
        kernel: form.kernel,
        ...(form.initrd ? { initrd: form.initrd } : {}),
        ...(form.cmdline ? { cmdline: form.cmdline } : {}),
      };
      break;
    case 'none':
      break;
  }
  return input;
}

/** The whole input checked by the core's own schema (the last word before Create). */
export function createInputError(input: CreateMachineInput): string | null {
  return firstIssue(createMachineInputSchema, input);
}
