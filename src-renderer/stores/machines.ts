import { defineStore } from 'pinia';
import { computed, ref, shallowReactive } from 'vue';
import type { HostCapabilities, MachineSummary, RuntimeStatus } from '../../src-main/api/types';
import type { VmdeskApi } from '../../src-main/api/contract';
import { apiFor, connectionState, onApiEvent, onConnectionState, type ConnectionState } from '../api/client';
import { LOCAL_HOST, groupMachines, listItems, type MachineRef } from '../lib/hosts';
import { reportError } from '../lib/report-error';
import { startMachineAsking } from '../lib/passphrase-prompt';
import { t, type MessageKey } from '../i18n';
import { useHostsStore } from './hosts';
import { useUiStore } from './ui';

/** A machine of the list, with the host it is on ("local": this computer). */
export type HostedMachine = MachineSummary & { host: string };

/** What the list has selected: a machine, or a host's group header (uuid null). */
export interface Selection {
  host: string;
  uuid: string | null;
}

/**
 * The machine libraries of every host, and each host's capabilities, kept current by events
 * (`machines`, `machine-state`, tagged with their host), not polling. A remote host that goes down
 * keeps its last list (shown greyed) until it is back.
 */
export const useMachinesStore = defineStore('machines', () => {
  const hosts = useHostsStore();
  /**
   * Each host's machines. Shallow: a list is replaced when it changes, and a machine whose state
   * changes is replaced in it by a copy, never changed in place, so 200 machines (and their configs)
   * are not each wrapped in a reactive proxy and tracked when the list is sorted and drawn.
   */
  const lists = shallowReactive(new Map<string, readonly HostedMachine[]>());
  const caps = ref(new Map<string, HostCapabilities>());
  const selection = ref<Selection | null>(null);
  const loaded = ref(false);
  const connection = ref<ConnectionState>(connectionState());
  const filter = ref('');
  const generations = new Map<string, number>();
  let subscribed = false;

  const machines = computed<HostedMachine[]>(() => [...lists.values()].flat());
  const groups = computed(() => groupMachines(hosts.sorted, machines.value, { filter: filter.value, collapsed: hosts.collapsed, nameOf }));
  /** Headers and rows in the order shown. */
  const items = computed(() => listItems(groups.value));
  const selected = computed<HostedMachine | null>(() => {
    const s = selection.value;
    return s?.uuid ? (find({ host: s.host, uuid: s.uuid }) ?? null) : null;
  });
  /** The host of the selected machine or group header: where New creates, what the Host menu acts on. */
  const selectedHost = computed(() => selection.value?.host ?? LOCAL_HOST);
  /** The host whose group header is selected (its details pane is shown), or null. */
  const hostSelected = computed(() => (selection.value && selection.value.uuid === null ? selection.value.host : null));
  /** This computer's capabilities (the status bar's). */
  const host = computed(() => caps.value.get(LOCAL_HOST) ?? null);

  function find(r: MachineRef): HostedMachine | undefined {
    return lists.get(r.host)?.find((m) => m.uuid === r.uuid);
  }

  function machinesOf(host: string): readonly HostedMachine[] {
    return lists.get(host) ?? [];
  }

  /** The names taken on one host (names are unique per library). */
  function namesOf(host: string): Set<string> {
    return new Set(
      machinesOf(host)
        .map((m) => m.config?.name)
        .filter((n): n is string => !!n),
    );
  }

  function capsOf(host: string): HostCapabilities | null {
    return caps.value.get(host) ?? null;
  }

  function firstMachine(): Selection | null {
    const item = items.value.find((i) => i.kind === 'machine');
    return item?.kind === 'machine' ? { host: item.machine.host, uuid: item.machine.uuid } : null;
  }

  /** A selected machine that is gone is unselected; nothing selected: the first machine. */
  function fixSelection(refreshedHost: string): void {
    const s = selection.value;
    if (s?.uuid && s.host === refreshedHost && !find({ host: s.host, uuid: s.uuid })) selection.value = null;
    selection.value ??= firstMachine();
  }

  async function refreshOne(host: string): Promise<void> {
    const mine = (generations.get(host) ?? 0) + 1;
    generations.set(host, mine);
    try {
      const list = await apiFor(host).listMachines();
      if (generations.get(host) !== mine) return;
      lists.set(
        host,
        list.map((m) => ({ ...m, host })),
      );
      if (host === LOCAL_HOST) loaded.value = true;
      fixSelection(host);
    } catch (err) {
      // A remote host's state says why it cannot be listed; its last list stays, greyed.
      if (host === LOCAL_HOST) await reportError(t('errors.listMachines'), err);
    }
  }

  /** Re-reads one host's machines, or (no host) those of every reachable host. */
  async function refresh(host?: string): Promise<void> {
    const targets = host ? [host] : [LOCAL_HOST, ...hosts.remotes.filter((h) => hosts.reachable(h.name)).map((h) => h.name)];
    await Promise.all(targets.map(refreshOne));
  }

  async function refreshHost(host: string = LOCAL_HOST): Promise<void> {
    try {
      caps.value.set(host, await apiFor(host).host());
    } catch (err) {
      if (host === LOCAL_HOST) await reportError(t('errors.hostCapabilities'), err);
    }
  }

  function patchState(host: string, uuid: string, status: RuntimeStatus): void {
    const list = lists.get(host);
    const i = list?.findIndex((m) => m.uuid === uuid) ?? -1;
    if (!list || i < 0) return void refresh(host);
    lists.set(
      host,
      list.map((m, j) => (j === i ? { ...m, status } : m)),
    );
  }

  function forget(host: string): void {
    lists.delete(host);
    caps.value.delete(host);
    if (selection.value?.host === host) selection.value = firstMachine();
  }

  async function load(): Promise<void> {
    if (!subscribed) {
      subscribed = true;
      onApiEvent('machines', (_data, host) => void refresh(host));
      onApiEvent('machine-state', (e, host) => patchState(host, e.uuid, e.status));
      hosts.onHostUp((h) => void Promise.all([refresh(h), refreshHost(h)]));
      hosts.onHostGone(forget);
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
    await Promise.all([refresh(LOCAL_HOST), refreshHost(), hosts.load()]);
  }

  function select(r: MachineRef | null): void {
    selection.value = r ? { host: r.host, uuid: r.uuid } : null;
  }

  function selectHost(host: string): void {
    selection.value = { host, uuid: null };
  }

  /** Runs a lifecycle call on a machine, on its host; a failure ("Cannot start web") is shown with a "Show log" action. */
  async function act(failed: MessageKey, r: MachineRef, call: (api: VmdeskApi, uuid: string) => Promise<unknown>): Promise<boolean> {
    try {
      await call(apiFor(r.host), r.uuid);
      return true;
    } catch (err) {
      const ui = useUiStore();
      await reportError(t(failed, { name: displayName(r) }), err, () => ui.showLog(r));
      return false;
    }
  }

  function displayName(r: MachineRef): string {
    const m = find(r);
    return m ? nameOf(m) : r.uuid;
  }

  return {
    machines,
    lists,
    host,
    selection,
    selected,
    selectedHost,
    hostSelected,
    groups,
    items,
    loaded,
    connection,
    filter,
    find,
    machinesOf,
    namesOf,
    capsOf,
    load,
    refresh,
    refreshHost,
    select,
    selectHost,
    displayName,
    start: (r: MachineRef) => act('errors.cannotStart', r, (a, u) => startMachineAsking(a, u, displayName(r))),
    shutdown: (r: MachineRef) => act('errors.cannotShutDown', r, (a, u) => a.shutdownMachine(u)),
    powerOff: (r: MachineRef) => act('errors.cannotPowerOff', r, (a, u) => a.shutdownMachine(u, { force: true })),
    pause: (r: MachineRef) => act('errors.cannotPause', r, (a, u) => a.pauseMachine(u)),
    resume: (r: MachineRef) => act('errors.cannotResume', r, (a, u) => a.resumeMachine(u)),
    reset: (r: MachineRef) => act('errors.cannotReset', r, (a, u) => a.resetMachine(u)),
    remove: (r: MachineRef, keepDisks: boolean) => act('errors.cannotRemove', r, (a, u) => a.deleteMachine(u, { keepDisks })),
    /** A broken machine's machine.json.bak put back (the broken file is kept beside it). */
    repair: (r: MachineRef) => act('errors.cannotRepair', r, (a, u) => a.repairMachine(u)),
  };
});

export function nameOf(m: MachineSummary): string {
  return m.config?.name ?? m.broken?.name ?? m.dir.split('/').pop() ?? m.uuid;
}
