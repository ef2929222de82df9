/**
 * The Settings dialog's form state, made from a MachineConfig, and the ModifyMachineInput it becomes:
 * only the fields that changed, so a save never rewrites what the user did not touch.
 */
import type { BootDevice, CpuPin, MachineConfig, ResourcesConfig } from '../../src-main/api/machine-config';
import { BOOT_DEVICES, DISPLAY_ADAPTERS, defaultResources } from '../../src-main/api/machine-config';
import {
  cpuCapSchema,
  cpuPinSchema,
  effectiveMinimum,
  formatPinning,
  memoryMiBSchema,
  parsePinning,
  resourceProblems,
  sharesSchema,
} from '../../src-main/api/resources';
import { kernelBootInputSchema, type ModifyMachineInput } from '../../src-main/api/operations';
import type { HostCapabilities } from '../../src-main/api/types';
import { t, type MessageKey } from '../i18n';
import { localizeApiMessage } from '../i18n/core-messages';
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
  /** A virtio-balloon device (next start). */
  balloon: boolean;
  /** Minimum memory left to the default (half the memory); memoryMinMiB is then only shown. */
  memoryMinAuto: boolean;
  memoryMinMiB: number;
  memoryShares: number;
  /** Offer the machine's RAM to KSM (next start). */
  pageSharing: boolean;
  cpuCapOn: boolean;
  /** Percent of one host CPU. */
  cpuCap: number;
  cpuShares: number;
  /** vCPU:hostCPU pairs as typed, e.g. `0:1,1:0`; '' = none. */
  pinning: string;
}

export type SettingsField = keyof SettingsForm;
export type SettingsErrors = Partial<Record<SettingsField, string>>;

// The details pane's words too: in machine-info, which the first load has without this module's schemas.
export { BOOT_DEVICE_LABELS, DISPLAY_ADAPTER_LABELS } from './machine-info';

/** Settings the core refuses to change while the machine runs, and why. */
export const LOCKED_WHILE_RUNNING: Partial<Record<SettingsField, MessageKey>> = {
  name: 'settings.general.lockedName',
  firmware: 'settings.system.lockedFirmware',
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
    balloon: c.resources.balloon,
    memoryMinAuto: c.resources.memoryMinMiB === undefined,
    memoryMinMiB: effectiveMinimum(c.memoryMiB, c.resources),
    memoryShares: c.resources.memoryShares,
    pageSharing: c.resources.pageSharing,
    cpuCapOn: c.resources.cpuCap !== null,
    cpuCap: c.resources.cpuCap ?? 100,
    cpuShares: c.resources.cpuShares,
    pinning: formatPinning(c.resources.cpuPinning),
  };
}

/** The first message of a schema's refusal, or null. */
function schemaError(
  schema: { safeParse(v: unknown): { success: boolean; error?: { issues: { message: string }[] } } },
  v: unknown,
): string | null {
  const r = schema.safeParse(v);
  return r.success ? null : localizeApiMessage(r.error?.issues[0]?.message ?? t('errors.invalidValue'));
}

/** The pinning field as pins, or why it is not one: the syntax, each pin, each vCPU once, the host's CPUs. */
export function pinningOf(text: string, host: HostCapabilities | null): { pins: CpuPin[] } | { error: string } {
  let pins: CpuPin[];
  try {
    pins = parsePinning(text);
  } catch (err) {
    return { error: localizeApiMessage((err as Error).message) };
  }
  for (const pin of pins) {
    const problem = schemaError(cpuPinSchema, pin);
    if (problem) return { error: problem };
    if (host && pin.hostCpu >= host.cpus)
      return {
        error: t('settings.system.noSuchHostCpuCount', { cpu: pin.hostCpu, last: host.cpus - 1 }, host.cpus),
      };
  }
  if (new Set(pins.map((p) => p.vcpu)).size !== pins.length) return { error: t('settings.system.pinnedTwice') };
  return { pins: [...pins].sort((a, b) => a.vcpu - b.vcpu) };
}

/** The resource rules of the core (resourceProblems), one field at a time, so each message lands on its field. */
function resourceErrors(form: SettingsForm, host: HostCapabilities | null): SettingsErrors {
  const errors: SettingsErrors = {};
  const crossField = (patch: Partial<ResourcesConfig>): string | null =>
    localizeApiMessage(
      resourceProblems({ cpus: form.cpus, memoryMiB: form.memoryMiB, resources: { ...defaultResources(), ...patch } })[0] ?? '',
    ) || null;
  if (!form.memoryMinAuto) {
    const e = schemaError(memoryMiBSchema, form.memoryMinMiB) ?? crossField({ memoryMinMiB: form.memoryMinMiB });
    if (e) errors.memoryMinMiB = e;
  }
  const memoryShares = schemaError(sharesSchema, form.memoryShares);
  if (memoryShares) errors.memoryShares = memoryShares;
  if (form.cpuCapOn) {
    const e = schemaError(cpuCapSchema, form.cpuCap) ?? crossField({ cpuCap: form.cpuCap });
    if (e) errors.cpuCap = e;
  }
  const cpuShares = schemaError(sharesSchema, form.cpuShares);
  if (cpuShares) errors.cpuShares = cpuShares;
  const pinning = pinningOf(form.pinning, host);
  const pinError = 'error' in pinning ? pinning.error : crossField({ cpuPinning: pinning.pins });
  if (pinError) errors.pinning = pinError;
  return errors;
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
  if (bootOrderOf(form).length === 0) errors.boot = t('settings.system.noBootDevice');
  set('iso', pathError(form.iso, false));
  if (form.kernelBoot) {
    set('kernel', pathError(form.kernel, true));
    set('initrd', pathError(form.initrd, false));
    const r = kernelBootInputSchema.shape.cmdline.safeParse(form.cmdline);
    if (!r.success) errors.cmdline = localizeApiMessage(r.error.issues[0]?.message ?? t('settings.storage.invalidCmdline'));
  }
  if (form.notes.length > 10000) errors.notes = t('settings.general.notesTooLong', { max: 10000 });
  return { ...errors, ...resourceErrors(form, host) };
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
  resourceChanges(form, c, changes);
  return changes;
}

function resourceChanges(form: SettingsForm, c: MachineConfig, changes: ModifyMachineInput): void {
  const r = c.resources;
  if (form.balloon !== r.balloon) changes.balloon = form.balloon;
  const min = form.memoryMinAuto ? undefined : form.memoryMinMiB;
  if (min !== r.memoryMinMiB) changes.memoryMinMiB = min ?? null;
  if (form.memoryShares !== r.memoryShares) changes.memoryShares = form.memoryShares;
  if (form.pageSharing !== r.pageSharing) changes.pageSharing = form.pageSharing;
  const cap = form.cpuCapOn ? form.cpuCap : null;
  if (cap !== r.cpuCap) changes.cpuCap = cap;
  if (form.cpuShares !== r.cpuShares) changes.cpuShares = form.cpuShares;
  // An unreadable pinning is an error of the form (Save is blocked), not a change.
  const pinning = pinningOf(form.pinning, null);
  if ('pins' in pinning && formatPinning(pinning.pins) !== formatPinning(r.cpuPinning)) changes.cpuPinning = pinning.pins;
}
