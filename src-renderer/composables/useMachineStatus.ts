/**
 * The name and run state of one machine, from one `getMachine` and then the `machine-state` events
 * only (never polling). Refetched when the library changes (rename) and when the API connection comes
 * back, since events sent while it was down are lost.
 */
import { computed, onScopeDispose, ref, toValue, watch, type ComputedRef, type MaybeRefOrGetter, type Ref } from 'vue';
import type { MachineDetails, RuntimeStatus } from '../../src-main/api/types';
import type { MachineState } from '../../src-main/api/machine-config';
import { api, onApiEvent, onConnectionState } from '../api/client';

export interface MachineStatus {
  machine: Ref<MachineDetails | null>;
  status: Ref<RuntimeStatus | null>;
  /** null until the first answer arrives, or when the machine cannot be read. */
  state: ComputedRef<MachineState | null>;
  name: ComputedRef<string>;
  /** Why the machine could not be read (e.g. it was deleted), or null. */
  error: Ref<string | null>;
  refresh: () => Promise<void>;
}

/** States in which a console stream is served. */
export function isLive(state: MachineState | null): boolean {
  return state === 'running' || state === 'paused';
}

export function useMachineStatus(ref_: MaybeRefOrGetter<string>): MachineStatus {
  const machine = ref<MachineDetails | null>(null);
  const status = ref<RuntimeStatus | null>(null);
  const error = ref<string | null>(null);
  // Counts state events, so that an answer asked for before the latest event does not undo it.
  let eventCount = 0;

  const refresh = async (): Promise<void> => {
    const eventsBefore = eventCount;
    try {
      const details = await api.getMachine(toValue(ref_));
      machine.value = details;
      if (eventCount === eventsBefore) status.value = details.status;
      error.value = null;
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err);
    }
  };

  const matches = (uuid: string): boolean => uuid === machine.value?.uuid || uuid === toValue(ref_);
  const unsubscribe = [
    onApiEvent('machine-state', ({ uuid, status: next }) => {
      if (!matches(uuid)) return;
      eventCount++;
      status.value = next;
    }),
    onApiEvent('machines', () => void refresh()),
    onConnectionState((s) => {
      if (s === 'open') void refresh();
    }),
  ];
  onScopeDispose(() => unsubscribe.forEach((off) => off()));

  watch(
    () => toValue(ref_),
    () => {
      machine.value = null;
      status.value = null;
      void refresh();
    },
    { immediate: true },
  );

  return {
    machine,
    status,
    state: computed(() => status.value?.state ?? null),
    name: computed(() => machine.value?.config.name ?? toValue(ref_)),
    error,
    refresh,
  };
}
