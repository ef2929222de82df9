import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { AddHostInput, HostSummary } from '../../src-main/api/hosts';
import { api, onApiEvent, onConnectionState } from '../api/client';
import { LOCAL_HOST, LOCAL_SUMMARY, isReachable, sortHosts } from '../lib/hosts';
import { describeError, reportError } from '../lib/report-error';
import { t, type MessageKey } from '../i18n';

/**
 * This computer and the remote hosts, with their connection states, kept current by `hosts` events.
 * When a host comes (back) up, the machines and tasks stores catch up with it; when one is removed,
 * they forget it.
 */
export const useHostsStore = defineStore('hosts', () => {
  const hosts = ref<HostSummary[]>([LOCAL_SUMMARY]);
  /** Why the last listing failed (an older VMDesk knows no hosts: this computer alone then), or null. */
  const listError = ref<string | null>(null);
  /** Host names whose group is collapsed in the machine list. */
  const collapsed = ref(new Set<string>());
  /** Connect/Disconnect under way, by host name. */
  const busy = ref(new Set<string>());
  /** The first listing has answered (or failed): until then a remote host's state is unknown, not down. */
  const loaded = ref(false);
  let subscribed = false;
  let firstLoad: Promise<void> | null = null;
  let generation = 0;
  const upListeners = new Set<(host: string) => void>();
  const goneListeners = new Set<(host: string) => void>();

  const sorted = computed(() => sortHosts(hosts.value));
  const remotes = computed(() => sorted.value.filter((h) => !h.local));
  const names = computed(() => new Set(hosts.value.map((h) => h.name)));

  function get(name: string): HostSummary | undefined {
    return hosts.value.find((h) => h.name === name);
  }

  function reachable(name: string): boolean {
    return name === LOCAL_HOST || isReachable(get(name));
  }

  async function refresh(): Promise<void> {
    const mine = ++generation;
    let list: HostSummary[];
    try {
      list = await api.listHosts();
    } catch (err) {
      // The last list stays (this computer alone at first); the host details pane says why.
      if (mine === generation) {
        listError.value = describeError(err).message;
        loaded.value = true;
      }
      return;
    }
    if (mine !== generation) return;
    listError.value = null;
    loaded.value = true;
    const before = new Map(hosts.value.map((h) => [h.name, h]));
    hosts.value = list.some((h) => h.local) ? list : [LOCAL_SUMMARY, ...list];
    for (const h of hosts.value) {
      if (h.local) continue;
      const was = before.get(h.name);
      if (isReachable(h) && !isReachable(was)) for (const l of upListeners) l(h.name);
    }
    for (const name of before.keys()) {
      if (!hosts.value.some((h) => h.name === name)) for (const l of goneListeners) l(name);
    }
  }

  async function load(): Promise<void> {
    if (!subscribed) {
      subscribed = true;
      onApiEvent('hosts', () => void refresh());
      onConnectionState((s) => {
        if (s === 'open') void refresh();
      });
    }
    await refresh();
  }

  /** load() once per window (console windows share it between their panes). */
  function ensureLoaded(): Promise<void> {
    firstLoad ??= load();
    return firstLoad;
  }

  /** Called with a remote host's name each time it becomes reachable (also on the first listing). */
  function onHostUp(listener: (host: string) => void): () => void {
    upListeners.add(listener);
    return () => upListeners.delete(listener);
  }

  /** Called with a host's name when it is removed. */
  function onHostGone(listener: (host: string) => void): () => void {
    goneListeners.add(listener);
    return () => goneListeners.delete(listener);
  }

  function toggle(name: string, collapse?: boolean): void {
    const next = new Set(collapsed.value);
    if (collapse ?? !next.has(name)) next.add(name);
    else next.delete(name);
    collapsed.value = next;
  }

  async function withBusy(name: string, failed: MessageKey, call: () => Promise<unknown>): Promise<boolean> {
    busy.value = new Set(busy.value).add(name);
    try {
      await call();
      return true;
    } catch (err) {
      await reportError(t(failed, { name }), err);
      return false;
    } finally {
      const next = new Set(busy.value);
      next.delete(name);
      busy.value = next;
      await refresh();
    }
  }

  /** addHost as is: its failure (HOST_KEY with the key to confirm…) is the caller's to show. */
  async function add(input: AddHostInput): Promise<HostSummary> {
    const added = await api.addHost(input);
    await refresh();
    return added;
  }

  return {
    hosts,
    sorted,
    remotes,
    names,
    listError,
    loaded,
    collapsed,
    busy,
    get,
    reachable,
    refresh,
    load,
    ensureLoaded,
    onHostUp,
    onHostGone,
    toggle,
    add,
    connect: (name: string) => withBusy(name, 'errors.cannotConnect', () => api.connectHost(name)),
    disconnect: (name: string) => withBusy(name, 'errors.cannotDisconnect', () => api.disconnectHost(name)),
    remove: (name: string) => withBusy(name, 'errors.cannotRemove', () => api.removeHost(name)),
  };
});
