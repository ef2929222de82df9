import type { MachineState, OS_TYPES } from '../../src-main/api/machine-config';

export type OsType = (typeof OS_TYPES)[number];

/** Defaults the wizard proposes for each OS type (like VirtualBox's OS presets). */
export const OS_PRESETS: Record<OsType, { label: string; memoryMiB: number; cpus: number; diskGiB: number; firmware: 'bios' | 'uefi' }> = {
  linux: { label: 'Linux', memoryMiB: 2048, cpus: 2, diskGiB: 20, firmware: 'bios' },
  windows: { label: 'Windows', memoryMiB: 4096, cpus: 2, diskGiB: 64, firmware: 'uefi' },
  bsd: { label: 'BSD', memoryMiB: 1024, cpus: 1, diskGiB: 16, firmware: 'bios' },
  other: { label: 'Other', memoryMiB: 512, cpus: 1, diskGiB: 8, firmware: 'bios' },
};

export const STATE_LABELS: Record<MachineState, string> = {
  stopped: 'Powered off',
  starting: 'Starting',
  running: 'Running',
  paused: 'Paused',
  stopping: 'Stopping',
  crashed: 'Crashed',
};

export const STATE_TAG_TYPES: Record<MachineState, 'info' | 'success' | 'warning' | 'danger' | 'primary'> = {
  stopped: 'info',
  starting: 'primary',
  running: 'success',
  paused: 'warning',
  stopping: 'primary',
  crashed: 'danger',
};

/** "Saved" for a stopped machine with a saved state (its next start resumes), as VirtualBox says. */
export function stateLabel(state: MachineState, savedState?: boolean): string {
  return savedState && !isActive(state) ? 'Saved' : STATE_LABELS[state];
}

export function isActive(state: MachineState): boolean {
  return state !== 'stopped' && state !== 'crashed';
}

export function formatMiB(mib: number): string {
  return mib >= 1024 ? `${(mib / 1024).toFixed(mib % 1024 === 0 ? 0 : 1)} GiB` : `${mib} MiB`;
}
