/**
 * Hosts in the renderer, the pure part: which host a machine is on, the machine list grouped by
 * host and drawn as rows, a host's connection state in words. No schema here: the main window's
 * first load uses it, and zod stays out of that (the Add host form is ./host-form.ts).
 */
import type { HostState, HostSummary } from '../../src-main/api/hosts';
import { t } from '../i18n';

/**
 * This computer's name in the API (src-main/api/hosts.ts LOCAL_HOST; hosts.test.ts checks they
 * agree): importing the API's would run that module's schemas in the first load.
 */
export const LOCAL_HOST = 'local';

/** A machine is named by its host and its uuid: the same uuid may exist on two hosts (a copied library). */
export interface MachineRef {
  host: string;
  uuid: string;
}

export function machineKey(ref: MachineRef): string {
  // A host name never holds "/" (hostNameSchema), so the key is unambiguous.
  return `${ref.host}/${ref.uuid}`;
}

export function sameMachine(a: MachineRef | null | undefined, b: MachineRef | null | undefined): boolean {
  return !!a && !!b && a.host === b.host && a.uuid === b.uuid;
}

/** Absent, empty or "local": this computer. */
export function isLocalHost(host: string | null | undefined): boolean {
  return !host || host === LOCAL_HOST;
}

/** The host name the stores use: "local" for this computer. */
export function hostOf(host: string | null | undefined): string {
  return isLocalHost(host) ? LOCAL_HOST : (host as string);
}

export function hostLabel(host: string): string {
  return isLocalHost(host) ? t('main.hosts.thisComputer') : host;
}

export const LOCAL_SUMMARY: HostSummary = { name: LOCAL_HOST, local: true, state: 'local' };

/** Calls reach it now: this computer, or a remote host whose link is up. */
export function isReachable(summary: HostSummary | undefined): boolean {
  return !!summary && (summary.local || summary.state === 'connected');
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** HH:MM:SS in local time. */
export function clockTime(at: Date): string {
  return `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
}

/** A host's connection state in words, as its group header shows it. */
export function hostStateText(h: HostSummary): string {
  switch (h.state) {
    case 'local':
      return t('main.hosts.state.local');
    case 'connecting':
      return t('main.hosts.state.connecting');
    case 'connected':
      return t('main.hosts.state.connected');
    case 'disconnected': {
      const at = h.retryAt ? new Date(h.retryAt) : null;
      return at && !Number.isNaN(at.getTime())
        ? t('main.hosts.state.reconnectingAt', { time: clockTime(at) })
        : t('main.hosts.state.disconnected');
    }
    case 'failed':
      return t('main.hosts.state.failed', { reason: h.error?.message ?? t('main.hosts.state.noConnection') });
  }
}

/** What a console says while its remote host's link is down. */
export function linkDownText(machineName: string, h: HostSummary | null): string {
  const retry = h?.state === 'disconnected' && h.retryAt && !Number.isNaN(new Date(h.retryAt).getTime()) ? new Date(h.retryAt) : null;
  const why = h?.error?.message ? `${h.error.message}. ` : '';
  if (h?.state === 'failed' || (h?.state === 'disconnected' && !h.retryAt))
    return why + t('console.linkDown.untouched', { name: machineName });
  return (
    why +
    (retry
      ? t('console.linkDown.keepsRunningUntil', { name: machineName, time: clockTime(retry) })
      : t('console.linkDown.keepsRunning', { name: machineName }))
  );
}

export const HOST_STATE_TAG_TYPES: Record<HostState, 'success' | 'warning' | 'info' | 'danger' | 'primary'> = {
  local: 'info',
  connecting: 'primary',
  connected: 'success',
  disconnected: 'warning',
  failed: 'danger',
};

/** This computer first, then the remote hosts by name. */
export function sortHosts(hosts: readonly HostSummary[]): HostSummary[] {
  return [...hosts].sort((a, b) => (a.local !== b.local ? (a.local ? -1 : 1) : a.name.localeCompare(b.name)));
}

export interface HostGroup<M> {
  host: HostSummary;
  label: string;
  /** The host's machines that pass the filter, by name (also when the group is collapsed). */
  machines: M[];
  collapsed: boolean;
  /** Calls reach the host now; otherwise its rows are the last ones known, greyed. */
  reachable: boolean;
}

export interface GroupOptions<M> {
  filter: string;
  collapsed: ReadonlySet<string>;
  nameOf: (m: M) => string;
}

/**
 * Machine names in the user's order: one collator for the whole sort. `localeCompare` builds one per
 * comparison, which made sorting 200 names about a twentieth of the main window's first render.
 */
const NAME_ORDER = new Intl.Collator();

/**
 * The machine list: one group per host (this computer first), each with its machines by name. With
 * a filter, only the machines whose name contains it, and only the groups that have one. Machines of
 * a host that is no longer listed are left out.
 */
export function groupMachines<M extends { host: string }>(
  hosts: readonly HostSummary[],
  machines: readonly M[],
  { filter, collapsed, nameOf }: GroupOptions<M>,
): HostGroup<M>[] {
  const q = filter.trim().toLocaleLowerCase();
  const byHost = new Map<string, M[]>();
  for (const m of machines) {
    if (q && !nameOf(m).toLocaleLowerCase().includes(q)) continue;
    const list = byHost.get(m.host) ?? [];
    list.push(m);
    byHost.set(m.host, list);
  }
  const groups: HostGroup<M>[] = [];
  for (const host of sortHosts(hosts)) {
    const list = (byHost.get(host.name) ?? []).sort((a, b) => NAME_ORDER.compare(nameOf(a), nameOf(b)));
    if (q && list.length === 0) continue;
    groups.push({ host, label: hostLabel(host.name), machines: list, collapsed: collapsed.has(host.name), reachable: isReachable(host) });
  }
  return groups;
}

export type ListItem<M> = { kind: 'host'; host: string } | { kind: 'machine'; machine: M };

/** The rows in the order they are shown (for the arrow keys): each header, then its machines unless collapsed. */
export function listItems<M>(groups: readonly HostGroup<M>[]): ListItem<M>[] {
  return groups.flatMap((g): ListItem<M>[] => [
    { kind: 'host', host: g.host.name },
    ...(g.collapsed ? [] : g.machines.map((machine): ListItem<M> => ({ kind: 'machine', machine }))),
  ]);
}

/**
 * One row of the machine list as it is drawn: a host's header, a machine, or the note of a host
 * without machines. `key` names it across redraws. Each header and machine carries its place in its
 * set for aria-posinset/aria-setsize — the headers among the hosts, a machine among its host's
 * machines — since the list draws only the rows on screen and a screen reader cannot count the rest.
 */
export type ListRow<M> =
  | { kind: 'host'; key: string; group: HostGroup<M>; posinset: number; setsize: number }
  | { kind: 'machine'; key: string; group: HostGroup<M>; machine: M; posinset: number; setsize: number }
  | { kind: 'empty'; key: string; group: HostGroup<M> };

/** The rows of the list: each header, then its machines (unless collapsed), or the empty note when it has none and no filter hides them. */
export function listRows<M extends MachineRef>(groups: readonly HostGroup<M>[], filtered: boolean): ListRow<M>[] {
  const rows: ListRow<M>[] = [];
  groups.forEach((group, g) => {
    rows.push({ kind: 'host', key: `host:${group.host.name}`, group, posinset: g + 1, setsize: groups.length });
    if (group.collapsed) return;
    group.machines.forEach((machine, i) =>
      rows.push({ kind: 'machine', key: machineKey(machine), group, machine, posinset: i + 1, setsize: group.machines.length }),
    );
    if (group.machines.length === 0 && !filtered) rows.push({ kind: 'empty', key: `empty:${group.host.name}`, group });
  });
  return rows;
}
