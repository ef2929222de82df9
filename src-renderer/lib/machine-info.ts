import type { MachineState, OS_TYPES } from '../../src-main/api/machine-config';

export type OsType = (typeof OS_TYPES)[number];

/** Defaults the wizard proposes for each OS type (like VirtualBox's OS presets). */
export const OS_PRESETS: Record<OsType, { label: string; memoryMiB: number; cpus: number; diskGiB: number; firmware: 'bios' | 'uefi' }> = {
  linux: { label: 'Linux', memoryMiB: 2048, cpus: 2, diskGiB: 20, firmware: 'bios' },
  windows: { label: 'Windows', memoryMiB: 4096, cpus: 2, diskGiB: 64, firmware: 'uefi' },
  bsd: { label: 'BSD', memoryMiB: 1024, cpus: 1, diskGiB: 16, firmware: 'bios' },
  other: { label: 'Other', memoryMiB: 512, cpus: 1, diskGiB: 8, firmware: 'bios' },
};

/**
 * The one vocabulary for a machine's run state, VirtualBox's words, wherever the renderer shows it
 * (machine list, details, preview, console window and its title): never the API's raw ids.
 */
export const STATE_LABELS: Record<MachineState, string> = {
  stopped: 'Powered off',
  starting: 'Starting…',
  running: 'Running',
  paused: 'Paused',
  stopping: 'Stopping…',
  crashed: 'Aborted',
};

/** A machine whose remote host cannot be reached: what it last reported is kept, greyed. */
export const UNREACHABLE_LABEL = 'disconnected';

export type StateTagType = 'info' | 'success' | 'warning' | 'danger' | 'primary';

export const STATE_TAG_TYPES: Record<MachineState, StateTagType> = {
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

/** The state inside a sentence: "web is powered off", "web is starting…". */
export function stateSentence(name: string, state: MachineState, savedState?: boolean): string {
  return `${name} is ${stateLabel(state, savedState).toLowerCase()}`;
}

export function isActive(state: MachineState): boolean {
  return state !== 'stopped' && state !== 'crashed';
}

export function formatMiB(mib: number): string {
  return mib >= 1024 ? `${(mib / 1024).toFixed(mib % 1024 === 0 ? 0 : 1)} GiB` : `${mib} MiB`;
}
