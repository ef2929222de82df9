import type { BootDevice, DISPLAY_ADAPTERS, MachineState, OS_TYPES } from '../../src-main/api/machine-config';
import { t, wordsOf } from '../i18n';
import { fixed } from '../i18n/format';

export type OsType = (typeof OS_TYPES)[number];

/** Defaults the wizard proposes for each OS type (like VirtualBox's OS presets). */
export const OS_PRESETS: Record<OsType, { memoryMiB: number; cpus: number; diskGiB: number; firmware: 'bios' | 'uefi' }> = {
  linux: { memoryMiB: 2048, cpus: 2, diskGiB: 20, firmware: 'bios' },
  windows: { memoryMiB: 4096, cpus: 2, diskGiB: 64, firmware: 'uefi' },
  bsd: { memoryMiB: 1024, cpus: 1, diskGiB: 16, firmware: 'bios' },
  other: { memoryMiB: 512, cpus: 1, diskGiB: 8, firmware: 'bios' },
};

/** Each OS type's name, in the current language. */
export const OS_LABELS = wordsOf<OsType>({
  linux: 'machine.os.linux',
  windows: 'machine.os.windows',
  bsd: 'machine.os.bsd',
  other: 'machine.os.other',
});

/**
 * The one vocabulary for a machine's run state, VirtualBox's words, wherever the renderer shows it
 * (machine list, details, preview, console window and its title): never the API's raw ids. Its
 * words are the catalogue's `machine.state` (German: VirtualBox's German ones).
 */
export const STATE_LABELS = wordsOf<MachineState>({
  stopped: 'machine.state.stopped',
  starting: 'machine.state.starting',
  running: 'machine.state.running',
  paused: 'machine.state.paused',
  stopping: 'machine.state.stopping',
  crashed: 'machine.state.crashed',
});

/** A machine whose remote host cannot be reached: what it last reported is kept, greyed. */
export function unreachableLabel(): string {
  return t('machine.state.unreachable');
}

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
  return savedState && !isActive(state) ? t('machine.state.saved') : STATE_LABELS[state];
}

/** The state inside a sentence: "web is powered off", "web is starting…". */
export function stateSentence(name: string, state: MachineState, savedState?: boolean): string {
  return savedState && !isActive(state) ? t('machine.stateSentence.saved', { name }) : t(`machine.stateSentence.${state}`, { name });
}

export function isActive(state: MachineState): boolean {
  return state !== 'stopped' && state !== 'crashed';
}

/** "512 MiB", "2 GiB", "1.5 GiB" (German "1,5 GiB"). */
export function formatMiB(mib: number): string {
  return mib >= 1024 ? `${fixed(mib / 1024, mib % 1024 === 0 ? 0 : 1)} GiB` : `${mib} MiB`;
}

export const BOOT_DEVICE_LABELS = wordsOf<BootDevice>({
  disk: 'machine.boot.disk',
  cdrom: 'machine.boot.cdrom',
  network: 'machine.boot.network',
});
export const DISPLAY_ADAPTER_LABELS = wordsOf<(typeof DISPLAY_ADAPTERS)[number]>({
  std: 'machine.display.std',
  virtio: 'machine.display.virtio',
  cirrus: 'machine.display.cirrus',
  none: 'machine.display.none',
});
