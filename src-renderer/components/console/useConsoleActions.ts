/**
 * The power toolbar of a console: which action makes sense in which machine state, and running it
 * with errors shown to the user. While one action runs the others wait, except Power off, which must
 * stay at hand when a guest ignores Shut down.
 */
import { computed, reactive, ref, toValue, type ComputedRef, type MaybeRefOrGetter, type Ref } from 'vue';
import { ElMessage } from 'element-plus';
import type { MachineState } from '../../../src-main/api/machine-config';
import { apiFor } from '../../api/client';
import type { MachineRef } from '../../lib/hosts';
import { startMachineAsking } from '../../lib/passphrase-prompt';
import { describeError } from '../../lib/report-error';

export type ConsoleAction = 'start' | 'pause' | 'resume' | 'reset' | 'shutdown' | 'poweroff' | 'ctrlaltdel' | 'screenshot';

const ALLOWED: Record<ConsoleAction, readonly MachineState[]> = {
  start: ['stopped', 'crashed'],
  pause: ['running'],
  resume: ['paused'],
  reset: ['running', 'paused'],
  shutdown: ['running'],
  poweroff: ['starting', 'running', 'paused', 'stopping'],
  ctrlaltdel: ['running'],
  screenshot: ['running', 'paused'],
};

export interface ConsoleActions {
  /** The actions under way. */
  pending: Set<ConsoleAction>;
  enabled: ComputedRef<Record<ConsoleAction, boolean>>;
  run: (action: ConsoleAction) => Promise<void>;
}

/** The core's message (its own words), or the client's in the current language. */
function errorText(err: unknown): string {
  return describeError(err).message;
}

function downloadPng(base64: string, fileName: string): void {
  const link = document.createElement('a');
  link.href = `data:image/png;base64,${base64}`;
  link.download = fileName;
  link.rel = 'noopener';
  document.body.appendChild(link);
  link.click();
  link.remove();
}

/** e.g. demo-2026-11-25T10-58-03.png: sortable, and valid on every file system. */
export function screenshotFileName(machineName: string, at = new Date()): string {
  const stamp = at.toISOString().slice(0, 19).replace(/:/g, '-');
  const safeName = machineName.replace(/[^\w.-]+/g, '_') || 'machine';
  return `${safeName}-${stamp}.png`;
}

export function useConsoleActions(
  target: MaybeRefOrGetter<MachineRef>,
  state: Ref<MachineState | null>,
  machineName: Ref<string>,
  hostUp: Ref<boolean> = ref(true),
): ConsoleActions {
  const pending = reactive(new Set<ConsoleAction>());

  const enabled = computed(() => {
    const result = {} as Record<ConsoleAction, boolean>;
    for (const action of Object.keys(ALLOWED) as ConsoleAction[]) {
      const allowedNow = hostUp.value && state.value !== null && ALLOWED[action].includes(state.value);
      result[action] = allowedNow && !pending.has(action) && (pending.size === 0 || action === 'poweroff');
    }
    return result;
  });

  const perform = async (action: ConsoleAction, machine: MachineRef): Promise<void> => {
    const api = apiFor(machine.host);
    const ref_ = machine.uuid;
    switch (action) {
      case 'start':
        await startMachineAsking(api, ref_, machineName.value);
        return;
      case 'pause':
        await api.pauseMachine(ref_);
        return;
      case 'resume':
        await api.resumeMachine(ref_);
        return;
      case 'reset':
        await api.resetMachine(ref_);
        return;
      case 'shutdown':
        await api.shutdownMachine(ref_);
        return;
      case 'poweroff':
        await api.shutdownMachine(ref_, { force: true });
        return;
      case 'ctrlaltdel':
        await api.sendCtrlAltDel(ref_);
        return;
      case 'screenshot': {
        const { png } = await api.screenshot(ref_);
        downloadPng(png, screenshotFileName(machineName.value));
        return;
      }
    }
  };

  const run = async (action: ConsoleAction): Promise<void> => {
    pending.add(action);
    try {
      await perform(action, toValue(target));
    } catch (err) {
      ElMessage.error({ message: errorText(err), showClose: true });
    } finally {
      pending.delete(action);
    }
  };

  return { pending, enabled, run };
}
