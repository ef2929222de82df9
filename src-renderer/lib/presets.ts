import type { HostCapabilities } from '../../src-main/api/types';
import { OS_TYPES } from '../../src-main/api/machine-config';
import { t } from '../i18n';
import { OS_LABELS, OS_PRESETS, type OsType } from './machine-info';

export interface HardwarePreset {
  memoryMiB: number;
  cpus: number;
  diskGiB: number;
  firmware: 'bios' | 'uefi';
}

/** The OS types in the order the wizard lists them, with their labels (in the current language). */
export const OS_TYPE_OPTIONS: readonly { readonly value: OsType; readonly label: string }[] = OS_TYPES.map((value) => ({
  value,
  get label() {
    return OS_LABELS[value];
  },
}));

/** Why UEFI cannot be chosen on this host, or null when it can. */
export function uefiUnavailableReason(host: HostCapabilities | null): string | null {
  if (!host) return null;
  if (host.firmware.ovmfCode && host.firmware.ovmfVars) return null;
  return t('wizard.uefiMissing');
}

/**
 * The OS preset, fitted to this host so that the defaults never warn: at most half the host's memory
 * (in 256 MiB steps, at least 256 MiB), at most its cores, and BIOS when OVMF is missing.
 */
export function presetFor(osType: OsType, host: HostCapabilities | null): HardwarePreset {
  const { memoryMiB, cpus, diskGiB, firmware } = OS_PRESETS[osType];
  if (!host) return { memoryMiB, cpus, diskGiB, firmware };
  const memoryCap = Math.max(256, Math.floor(host.memoryMiB / 2 / 256) * 256);
  return {
    memoryMiB: Math.min(memoryMiB, memoryCap),
    cpus: Math.max(1, Math.min(cpus, host.cpus)),
    diskGiB,
    firmware: firmware === 'uefi' && uefiUnavailableReason(host) ? 'bios' : firmware,
  };
}
