import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { HostCapabilities, MachineSummary, RuntimeStatus } from '../../src-main/api/types';
import { api, connectionState, onApiEvent, onConnectionState, type ConnectionState } from '../api/client';
import { reportError } from '../lib/report-error';
import { useUiStore } from './ui';

/** The machine library and the host, kept current by events (`machines`, `machine-state`), not polling. */
export const useMachinesStore = defineStore('machines', () => {
  const machines = ref<MachineSummary[]>([]);
  const host = ref<HostCapabilities | null>(null);
  const selectedUuid = ref<string | null>(null);
  const loaded = ref(false);
  const connection = ref<ConnectionState>(connectionState());
  const filter = ref('');
  let subscribed = false;

  const selected = computed(() => machines.value.find((m) => m.uuid === selectedUuid.value) ?? null);
  const visible = computed(() => {
    const q = filter.value.trim().toLocaleLowerCase();
    const list = [...machines.value].sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
    return q ? list.filter((m) => nameOf(m).toLocaleLowerCase().includes(q)) : list;
  });
  const names = computed(() => new Set(machines.value.map((m) => m.config?.name).filter((n): n is string => !!n)));

  async function refresh(): Promise<void> {
    try {
      machines.value = await api.listMachines();
      loaded.value = true;
      if (selectedUuid.value && !machines.value.some((m) => m.uuid === selectedUuid.value)) selectedUuid.value = null;
      selectedUuid.value ??= visible.value[0]?.uuid ?? null;
    } catch (err) {
      await reportError('Cannot list the machines', err);
    }
  }

  async function refreshHost(): Promise<void> {
    try {
      host.value = await api.host();
    } catch (err) {
      await reportError('Cannot read the host capabilities', err);
    }
  }

  function patchState(uuid: string, status: RuntimeStatus): void {
    const m = machines.value.find((x) => x.uuid === uuid);
    if (m) m.status = status;
    else void refresh();
  }

  async function load(): Promise<void> {
    if (!subscribed) {
      subscribed = true;
      onApiEvent('machines', () => void refresh());
      onApiEvent('machine-state', (e) => patchState(e.uuid, e.status));
      let lost = false;
      onConnectionState((s) => {
        connection.value = s;
        if (s === 'closed') lost = true;
        // Events were missed while disconnected: catch up (the first connection is served by load()).
        if (s === 'open' && lost) {
          lost = false;
          void Promise.all([refresh(), refreshHost()]);
        }
      });
    }
    await Promise.all([refresh(), refreshHost()]);
  }

  function select(uuid: string | null): void {
    selectedUuid.value = uuid;
  }

  /** Runs a lifecycle call on a machine; a failure is shown with a "Show log" action. */
  async function act(what: string, uuid: string, call: (uuid: string) => Promise<{ state: RuntimeStatus['state'] }>): Promise<boolean> {
    try {
      await call(uuid);
      return true;
    } catch (err) {
      const ui = useUiStore();
      await reportError(`${what} ${displayName(uuid)}`, err, () => ui.showLog(uuid));
      return false;
    }
  }

  function displayName(uuid: string): string {
    const m = machines.value.find((x) => x.uuid === uuid);
    return m ? nameOf(m) : uuid;
  }

  return {
    machines,
    host,
    selectedUuid,
    selected,
    visible,
    names,
    loaded,
    connection,
    filter,
    load,
    refresh,
    refreshHost,
    select,
    displayName,
    start: (uuid: string) => act('Cannot start', uuid, (u) => api.startMachine(u)),
    shutdown: (uuid: string) => act('Cannot shut down', uuid, (u) => api.shutdownMachine(u)),
    powerOff: (uuid: string) => act('Cannot power off', uuid, (u) => api.shutdownMachine(u, { force: true })),
    pause: (uuid: string) => act('Cannot pause', uuid, (u) => api.pauseMachine(u)),
    resume: (uuid: string) => act('Cannot resume', uuid, (u) => api.resumeMachine(u)),
    reset: (uuid: string) => act('Cannot reset', uuid, (u) => api.resetMachine(u)),
    remove: (uuid: string, keepDisks: boolean) =>
      act('Cannot remove', uuid, (u) => api.deleteMachine(u, { keepDisks }).then(() => ({ state: 'stopped' as const }))),
    /** A broken machine's machine.json.bak put back (the broken file is kept beside it). */
    repair: (uuid: string) => act('Cannot repair', uuid, (u) => api.repairMachine(u).then(() => ({ state: 'stopped' as const }))),
  };
});

export function nameOf(m: MachineSummary): string {
  return m.config?.name ?? m.broken?.name ?? m.dir.split('/').pop() ?? m.uuid;
}
