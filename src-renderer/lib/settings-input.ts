/**
 * The Settings dialog's form state, made from a MachineConfig, and the ModifyMachineInput it becomes:
 * only the fields that changed, so a save never rewrites what the user did not touch.
 */
import type { BootDevice, MachineConfig } from '../../src-main/api/machine-config';
import { BOOT_DEVICES, DISPLAY_ADAPTERS } from '../../src-main/api/machine-config';
import { kernelBootInputSchema, type ModifyMachineInput } from '../../src-main/api/operations';
import type { HostCapabilities } from '../../src-main/api/types';
import type { OsType } from './machine-info';
import { uefiUnavailableReason } from './presets';
import { cpusError, memoryError, nameError, pathError } from './wizard-input';

export type DisplayAdapter = (typeof DISPLAY_ADAPTERS)[number];

export interface SettingsForm {
  name: string;
  osType: OsType;
  notes: string;
  memoryMiB: number;
  cpus: number;
  firmware: 'bios' | 'uefi';
  /** Every boot device, in order, each on or off. */
  boot: { device: BootDevice; enabled: boolean }[];
  displayAdapter: DisplayAdapter;
  /** '' = empty drive. */
  iso: string;
  kernelBoot: boolean;
  kernel: string;
  initrd: string;
  cmdline: string;
  serial: boolean;
}

export type SettingsField = keyof SettingsForm;
export type SettingsErrors = Partial<Record<SettingsField, string>>;

export const BOOT_DEVICE_LABELS: Record<BootDevice, string> = { disk: 'Hard disk', cdrom: 'Optical', network: 'Network' };
export const DISPLAY_ADAPTER_LABELS: Record<DisplayAdapter, string> = {
  std: 'Standard VGA',
  virtio: 'VirtIO GPU',
  cirrus: 'Cirrus Logic',
  none: 'None (headless)',
};

/** Settings the core refuses to change while the machine runs. */
export const LOCKED_WHILE_RUNNING: Partial<Record<SettingsField, string>> = {
  name: 'Stop the machine to rename it',
  firmware: 'Stop the machine to change its firmware',
};

export function settingsFormFrom(c: MachineConfig): SettingsForm {
  return {
    name: c.name,
    osType: c.osType,
    notes: c.notes,
    memoryMiB: c.memoryMiB,
    cpus: c.cpus,
    firmware: c.firmware,
    boot: [
      ...c.bootOrder.map((device) => ({ device, enabled: true })),
      ...BOOT_DEVICES.filter((d) => !c.bootOrder.includes(d)).map((device) => ({ device, enabled: false })),
    ],
    displayAdapter: c.display.adapter,
    iso: c.cdrom?.file ?? '',
    kernelBoot: c.kernelBoot !== null,
    kernel: c.kernelBoot?.kernel ?? '',
    initrd: c.kernelBoot?.initrd ?? '',
    cmdline: c.kernelBoot?.cmdline ?? '',
    serial: c.serial.enabled,
  };
}

export function bootOrderOf(form: SettingsForm): BootDevice[] {
  return form.boot.filter((b) => b.enabled).map((b) => b.device);
}

/** Moves a boot device up (-1) or down (+1) in the order; out-of-range moves do nothing. */
export function moveBootDevice(boot: SettingsForm['boot'], index: number, delta: -1 | 1): SettingsForm['boot'] {
  const target = index + delta;
  if (index < 0 || target < 0 || index >= boot.length || target >= boot.length) return boot;
  const next = [...boot];
  const [item] = next.splice(index, 1);
  if (item) next.splice(target, 0, item);
  return next;
}

export function settingsErrors(
  form: SettingsForm,
  original: MachineConfig,
  takenNames: ReadonlySet<string>,
  host: HostCapabilities | null,
): SettingsErrors {
  const errors: SettingsErrors = {};
  const set = (field: SettingsField, message: string | null): void => {
    if (message) errors[field] = message;
  };
  set('name', nameError(form.name, takenNames, original.name));
  set('memoryMiB', memoryError(form.memoryMiB, host));
  set('cpus', cpusError(form.cpus));
  if (form.firmware === 'uefi' && original.firmware !== 'uefi') set('firmware', uefiUnavailableReason(host));
  if (bootOrderOf(form).length === 0) errors.boot = 'Choose at least one boot device';
  set('iso', pathError(form.iso, false));
  if (form.kernelBoot) {
    set('kernel', pathError(form.kernel, true));
    set('initrd', pathError(form.initrd, false));
    const r = kernelBootInputSchema.shape.cmdline.safeParse(form.cmdline);
    if (!r.success) errors.cmdline = r.error.issues[0]?.message ?? 'Invalid kernel command line';
  }
  if (form.notes.length > 10000) errors.notes = 'At most 10000 characters of notes';
  return errors;
}

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Only what differs from the stored config. */
export function settingsChanges(form: SettingsForm, c: MachineConfig): ModifyMachineInput {
  const changes: ModifyMachineInput = {};
  if (form.name !== c.name) changes.name = form.name;
  if (form.osType !== c.osType) changes.osType = form.osType;
  if (form.notes !== c.notes) changes.notes = form.notes;
  if (form.memoryMiB !== c.memoryMiB) changes.memoryMiB = form.memoryMiB;
  if (form.cpus !== c.cpus) changes.cpus = form.cpus;
  if (form.firmware !== c.firmware) changes.firmware = form.firmware;
  const order = bootOrderOf(form);
  if (!sameList(order, c.bootOrder)) changes.bootOrder = order;
  if (form.displayAdapter !== c.display.adapter) changes.displayAdapter = form.displayAdapter;
  const iso = form.iso === '' ? null : form.iso;
  if (iso !== (c.cdrom?.file ?? null)) changes.iso = iso;
  const kb = c.kernelBoot;
  if (!form.kernelBoot) {
    if (kb) changes.kernelBoot = null;
  } else if (!kb || form.kernel !== kb.kernel || form.initrd !== (kb.initrd ?? '') || form.cmdline !== kb.cmdline) {
    changes.kernelBoot = {
      kernel: form.kernel,
      ...(form.initrd ? { initrd: form.initrd } : {}),
      cmdline: form.cmdline,
    };
  }
  if (form.serial !== c.serial.enabled) changes.serial = form.serial;
  return changes;
}
