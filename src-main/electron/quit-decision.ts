/**
 * What happens to running machines when the app quits, without Electron: which machines count, the
 * question asked, and the shutdown of those the user chose to stop (ACPI, then power off the ones
 * that ignore it). main.ts shows the dialogs.
 */
import type { MachineSummary } from '../api/types.js';
import type { CoreApi } from '../core/service.js';
import { toErrorShape } from '../api/errors.js';

export type QuitChoice = 'keep' | 'shutdown' | 'cancel';

/** How long each guest gets to shut down on ACPI before it is powered off. */
export const QUIT_SHUTDOWN_TIMEOUT_MS = 30_000;

export interface ActiveMachine {
  uuid: string;
  name: string;
  paused: boolean;
}

/** Machines whose QEMU runs (running, paused, starting or stopping). */
export function activeMachines(list: readonly MachineSummary[]): ActiveMachine[] {
  return list.flatMap((m) => {
    const { state } = m.status;
    if (state !== 'running' && state !== 'paused' && state !== 'starting' && state !== 'stopping') return [];
    return [{ uuid: m.uuid, name: m.config?.name ?? m.uuid, paused: state === 'paused' }];
  });
}

/** The buttons, in order: index 0 is the default, the last one cancels. */
export const QUIT_BUTTONS = ['Keep them running in the background', 'Shut them down', 'Cancel'] as const;
const CHOICES: readonly QuitChoice[] = ['keep', 'shutdown', 'cancel'];

export function quitQuestion(machines: readonly ActiveMachine[]): { message: string; detail: string } {
  const names = machines.map((m) => m.name);
  const shown = names.length > 6 ? [...names.slice(0, 6), `and ${names.length - 6} more`] : names;
  return {
    message: machines.length === 1 ? `${names[0] ?? ''} is still running.` : `${machines.length} virtual machines are still running.`,
    detail:
      `${shown.join(', ')}.\n\nMachines kept running go on in the background and VMDesk finds them again when it starts. ` +
      `Shutting down asks each guest to power off (ACPI) and waits up to ${QUIT_SHUTDOWN_TIMEOUT_MS / 1000} s.`,
  };
}

/** The dialog's answer as a choice; closing the dialog (Escape) cancels. */
export function choiceFromResponse(response: number): QuitChoice {
  return CHOICES[response] ?? 'cancel';
}

export interface ShutdownReport {
  /** Shut down by their guest. */
  stopped: string[];
  /** Did not stop within the timeout: candidates for power off. */
  unresponsive: ActiveMachine[];
}

type ShutdownApi = Pick<CoreApi, 'shutdownMachine' | 'resumeMachine' | 'listMachines'>;

/** ACPI shutdown of every machine at once (a paused one is resumed first, else it cannot react). */
export async function shutdownAll(
  api: ShutdownApi,
  machines: readonly ActiveMachine[],
  timeoutMs = QUIT_SHUTDOWN_TIMEOUT_MS,
): Promise<ShutdownReport> {
  await Promise.all(
    machines.map(async (m) => {
      try {
        if (m.paused) await api.resumeMachine(m.uuid);
        await api.shutdownMachine(m.uuid, { timeoutMs });
      } catch {
        // Judged below from the machine's state, whatever the reason (timeout, already stopped).
      }
    }),
  );
  const stillActive = new Set(activeMachines(await api.listMachines()).map((m) => m.uuid));
  return {
    stopped: machines.filter((m) => !stillActive.has(m.uuid)).map((m) => m.name),
    unresponsive: machines.filter((m) => stillActive.has(m.uuid)),
  };
}

/** Power off machines at once; returns the ones that could not be stopped, with why. */
export async function powerOffAll(api: ShutdownApi, machines: readonly ActiveMachine[]): Promise<{ name: string; reason: string }[]> {
  const failures = await Promise.all(
    machines.map(async (m) => {
      try {
        await api.shutdownMachine(m.uuid, { force: true });
        return null;
      } catch (err) {
        return { name: m.name, reason: toErrorShape(err).message };
      }
    }),
  );
  return failures.filter((f): f is { name: string; reason: string } => f !== null);
}
