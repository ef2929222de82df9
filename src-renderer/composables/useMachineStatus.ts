/**
 * The name and run state of one machine on its host, from one `getMachine` and then the
 * `machine-state` events only (never polling). Refetched when the library changes (rename), when the
 * API connection comes back and when a remote host's link is back, since events sent meanwhile are
 * lost.
 */
import { computed, onScopeDispose, ref, toValue, watch, type ComputedRef, type MaybeRefOrGetter, type Ref } from 'vue';
import type { HostSummary } from '../../src-main/api/hosts';
import type { MachineDetails, RuntimeStatus } from '../../src-main/api/types';
import type { MachineState } from '../../src-main/api/machine-config';
import { apiFor, onApiEvent, onConnectionState } from '../api/client';
import { isLocalHost, type MachineRef } from '../lib/hosts';
import { useHostsStore } from '../stores/hosts';

export interface MachineStatus {
  machine: Ref<MachineDetails | null>;
  status: Ref<RuntimeStatus | null>;
  /** null until the first answer arrives, or when the machine cannot be read. */
  state: ComputedRef<MachineState | null>;
  name: ComputedRef<string>;
  /** Why the machine could not be read (e.g. it was deleted), or null. */
  error: Ref<string | null>;
  /** Calls reach the machine's host now (always true on this computer). */
  hostUp: ComputedRef<boolean>;
  /** The remote host's summary (null on this computer or before the hosts are listed). */
  host: ComputedRef<HostSummary | null>;
  refresh: () => Promise<void>;
}

/** States in which a console stream is served. */
export function isLive(state: MachineState | null): boolean {
  return state === 'running' || state === 'paused';
}

export function useMachineStatus(target: MaybeRefOrGetter<MachineRef>): MachineStatus {
  const hosts = useHostsStore();
  const machine = ref<MachineDetails | null>(null);
  const status = ref<RuntimeStatus | null>(null);
  const error = ref<string | null>(null);
  // Counts state events, so that an answer asked for before the latest event does not undo it.
  let eventCount = 0;

  const hostName = computed(() => toValue(target).host);
  const local = computed(() => isLocalHost(hostName.value));
  const host = computed(() => (local.value ? null : (hosts.get(hostName.value) ?? null)));
  // Until the hosts are listed a remote host is taken as up: its first getMachine says otherwise.
  const hostUp = computed(() => local.value || !hosts.loaded || hosts.reachable(hostName.value));
  if (!local.value) void hosts.ensureLoaded();

  const refresh = async (): Promise<void> => {
    const eventsBefore = eventCount;
    const { host: h, uuid } = toValue(target);
    try {
      const details = await apiFor(h).getMachine(uuid);
      machine.value = details;
      if (eventCount === eventsBefore) status.value = details.status;
      error.value = null;
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err);
    }
  };

  const mine = (host: string): boolean => host === hostName.value || (local.value && isLocalHost(host));
  const matches = (uuid: string): boolean => uuid === machine.value?.uuid || uuid === toValue(target).uuid;
  const unsubscribe = [
    onApiEvent('machine-state', ({ uuid, status: next }, host) => {
      if (!mine(host) || !matches(uuid)) return;
      eventCount++;
      status.value = next;
    }),
    onApiEvent('machines', (_data, host) => {
      if (mine(host)) void refresh();
    }),
    onConnectionState((s) => {
      if (s === 'open') void refresh();
    }),
  ];
  onScopeDispose(() => unsubscribe.forEach((off) => off()));

  // A remote host back up: what happened meanwhile is read again.
  watch(hostUp, (up, wasUp) => {
    if (up && !wasUp) void refresh();
  });

  watch(
    () => `${toValue(target).host}/${toValue(target).uuid}`,
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
    name: computed(() => machine.value?.config.name ?? toValue(target).uuid),
    error,
    hostUp,
    host,
    refresh,
  };
}
