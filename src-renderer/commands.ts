/**
 * Every user command, by id: the toolbar, the in-app menu bar, the context menu, keyboard shortcuts
 * and Electron's native menu (through window.vmdesk.onMenuCommand) all run these.
 */
import { ElMessageBox } from 'element-plus';
import { useMachinesStore, type HostedMachine } from './stores/machines';
import { useHostsStore } from './stores/hosts';
import { useUiStore } from './stores/ui';
import { consoleHref, consoleWindowName } from './lib/route';
import { isActive } from './lib/machine-info';
import { apiFor } from './api/client';
import { runInBackground } from './lib/run-task';
import { reportError } from './lib/report-error';
import { isLocalHost } from './lib/hosts';
import { migrationDetail, migrationMode } from './lib/migration-status';
import { useTasksStore } from './stores/tasks';
import { currentFace, shortcutLabel } from './lib/shortcuts';
import { t, type MessageKey } from './i18n';

export const COMMAND_IDS = [
  'machine.new',
  'machine.settings',
  'machine.start',
  'machine.pause',
  'machine.resume',
  'machine.reset',
  'machine.shutdown',
  'machine.poweroff',
  'machine.remove',
  'machine.showLog',
  'machine.console',
  'machine.snapshot',
  'machine.saveState',
  'machine.discardState',
  'machine.clone',
  'machine.move',
  'machine.migrate',
  'machine.export',
  'machine.v2p',
  'machine.backup',
  'file.import',
  'file.media',
  'file.p2v',
  'file.preferences',
  'view.tasks',
  'host.add',
  'host.connect',
  'host.disconnect',
  'host.remove',
  'help.about',
] as const;
export type CommandId = (typeof COMMAND_IDS)[number];

export interface Command {
  id: CommandId;
  /** In the current language (read when shown, so menus follow a switch of language). */
  readonly label: string;
  shortcut?: string;
  /** Why the command cannot run now, or null when it can. */
  disabledReason: () => string | null;
  run: () => void | Promise<unknown>;
}

export function isCommandId(id: string): id is CommandId {
  return (COMMAND_IDS as readonly string[]).includes(id);
}

function createCommands(): Record<CommandId, Command> {
  const machines = useMachinesStore();
  const hosts = useHostsStore();
  const ui = useUiStore();
  const tasks = useTasksStore();
  const face = currentFace();
  const sel = (): HostedMachine | null => machines.selected;
  const state = (): string | undefined => sel()?.status.state;
  /** Calls cannot reach a machine whose host is disconnected. */
  const needMachine = (): string | null => {
    const m = sel();
    if (!m) return t('commands.why.selectMachine');
    return hosts.reachable(m.host) ? null : t('commands.why.hostDown', { host: m.host });
  };
  const whenState = (allowed: string[], why: MessageKey) => (): string | null =>
    needMachine() ?? (allowed.includes(state() ?? '') ? null : t(why));
  /** Where New, Import and the media manager act: the host of the selected machine or group, if it is up. */
  const needHost = (): string | null => {
    const h = machines.selectedHost;
    return hosts.reachable(h) ? null : t('commands.why.hostDown', { host: h });
  };
  const remoteHost = () => {
    const h = machines.selectedHost;
    return isLocalHost(h) ? null : (hosts.get(h) ?? null);
  };
  const needRemote = (): string | null => (remoteHost() ? null : t('commands.why.selectRemote'));
  const withSelected = (fn: (m: HostedMachine) => unknown) => (): void => {
    const m = sel();
    if (m) void fn(m);
  };
  const cmd = (id: CommandId, label: MessageKey, disabledReason: () => string | null, run: () => void, shortcut?: string): Command => ({
    id,
    get label() {
      return t(label);
    },
    disabledReason,
    run,
    ...(shortcut ? { shortcut } : {}),
  });

  const list: Command[] = [
    cmd(
      'machine.new',
      'commands.label.new',
      () => null,
      () => {
        ui.wizardHost = hosts.reachable(machines.selectedHost) ? machines.selectedHost : null;
        ui.wizardOpen = true;
      },
      shortcutLabel('machine.new', face),
    ),
    cmd(
      'machine.settings',
      'commands.label.settings',
      () => needMachine() ?? (sel()?.config ? null : t('commands.why.noConfig')),
      withSelected((m) => (ui.settings = { host: m.host, uuid: m.uuid })),
      shortcutLabel('machine.settings', face),
    ),
    cmd(
      'machine.start',
      'commands.label.start',
      whenState(['stopped', 'crashed'], 'commands.why.alreadyRunning'),
      withSelected((m) => machines.start(m)),
    ),
    cmd(
      'machine.pause',
      'commands.label.pause',
      whenState(['running'], 'commands.why.pauseRunning'),
      withSelected((m) => machines.pause(m)),
    ),
    cmd(
      'machine.resume',
      'commands.label.resume',
      whenState(['paused'], 'commands.why.resumePaused'),
      withSelected((m) => machines.resume(m)),
    ),
    cmd(
      'machine.reset',
      'commands.label.reset',
      whenState(['running', 'paused'], 'commands.why.notRunning'),
      withSelected((m) => machines.reset(m)),
    ),
    cmd(
      'machine.shutdown',
      'commands.label.shutdown',
      whenState(['running', 'starting'], 'commands.why.notRunning'),
      withSelected((m) => machines.shutdown(m)),
    ),
    cmd(
      'machine.poweroff',
      'commands.label.poweroff',
      whenState(['running', 'paused', 'starting', 'stopping'], 'commands.why.notRunning'),
      withSelected((m) => machines.powerOff(m)),
    ),
    cmd(
      'machine.remove',
      'commands.label.remove',
      () => needMachine() ?? (isActive(sel()?.status.state ?? 'stopped') ? t('commands.why.stopToRemove') : null),
      withSelected(confirmRemove),
    ),
    cmd(
      'machine.showLog',
      'commands.label.showLog',
      needMachine,
      withSelected((m) => ui.showLog(m)),
    ),
    cmd(
      'machine.console',
      'commands.label.console',
      whenState(['running', 'paused', 'starting', 'stopping'], 'commands.why.startForConsole'),
      withSelected((m) => window.open(consoleHref(m), consoleWindowName(m))),
    ),
    cmd(
      'machine.snapshot',
      'commands.label.snapshot',
      () =>
        whenState(['stopped', 'crashed', 'running', 'paused'], 'commands.why.waitStartedOrStopped')() ??
        (sel()?.savedState ? t('commands.why.hasSavedState') : null),
      withSelected((m) => (ui.takeSnapshot = { host: m.host, uuid: m.uuid })),
    ),
    cmd(
      'machine.saveState',
      'commands.label.saveState',
      whenState(['running', 'paused'], 'commands.why.saveRunning'),
      withSelected((m) =>
        runInBackground<{ file: string }>(
          t('commands.saveState.task', { name: machines.displayName(m) }),
          () => apiFor(m.host).saveState(m.uuid),
          () => t('commands.saveState.done', { name: machines.displayName(m) }),
          m.host,
        ),
      ),
    ),
    cmd(
      'machine.discardState',
      'commands.label.discardState',
      () => whenState(['stopped', 'crashed'], 'commands.why.stopFirst')() ?? (sel()?.savedState ? null : t('commands.why.noSavedState')),
      withSelected(confirmDiscard),
    ),
    cmd(
      'machine.clone',
      'commands.label.clone',
      () => needMachine() ?? (sel()?.config ? null : t('commands.why.noConfig')),
      withSelected((m) => (ui.clone = { host: m.host, uuid: m.uuid })),
    ),
    cmd(
      'machine.move',
      'commands.label.move',
      whenState(['stopped', 'crashed'], 'commands.why.stopToMove'),
      withSelected((m) => (ui.move = { host: m.host, uuid: m.uuid })),
    ),
    cmd(
      'machine.migrate',
      'commands.label.migrate',
      () => {
        const m = sel();
        if (!m) return t('commands.why.selectMachine');
        if (!isLocalHost(m.host)) return t('commands.why.migrateLocalOnly');
        // Live while it runs, offline once stopped.
        if (state() === 'crashed') return t('commands.why.crashed');
        if (!migrationMode(state())) return t('commands.why.waitStartedOrStopped');
        if (!hosts.remotes.some((h) => h.state === 'connected')) return t('commands.why.connectRemote');
        return null;
      },
      withSelected((m) => {
        // A migration of it already under way: its pre-copy view, not a second one.
        const name = machines.displayName(m);
        const under = tasks.running.find((t) => t.host === m.host && migrationDetail(t)?.machine === name);
        if (under) ui.migration = { host: under.host, id: under.id };
        else ui.migrate = { host: m.host, uuid: m.uuid };
      }),
    ),
    cmd(
      'machine.export',
      'commands.label.export',
      whenState(['stopped', 'crashed'], 'commands.why.stopToExport'),
      withSelected((m) => (ui.exportTarget = { host: m.host, uuid: m.uuid })),
    ),
    cmd(
      'machine.v2p',
      'commands.label.v2p',
      () =>
        whenState(['stopped', 'crashed'], 'commands.why.stopToV2p')() ?? (sel()?.config?.disks.length ? null : t('commands.why.noDisk')),
      withSelected((m) => (ui.v2p = { host: m.host, uuid: m.uuid })),
    ),
    cmd(
      'machine.backup',
      'commands.label.backup',
      // Running (live, the guest goes on) or stopped; not while it starts, stops or migrates.
      () => whenState(['running', 'paused', 'stopped', 'crashed'], 'commands.why.waitStartedOrStopped')(),
      withSelected((m) => (ui.backup = { host: m.host, uuid: m.uuid })),
    ),
    cmd('file.import', 'commands.label.import', needHost, () => (ui.importHost = machines.selectedHost)),
    cmd('file.media', 'commands.label.media', needHost, () => (ui.mediaHost = machines.selectedHost)),
    cmd('file.p2v', 'commands.label.p2v', needHost, () => (ui.p2vHost = machines.selectedHost)),
    cmd(
      'file.preferences',
      'commands.label.preferences',
      () => null,
      () => (ui.preferencesOpen = true),
    ),
    cmd(
      'view.tasks',
      'commands.label.tasks',
      () => null,
      () => (ui.tasksExpanded = !ui.tasksExpanded),
    ),
    cmd(
      'host.add',
      'commands.label.addHost',
      () => null,
      () => (ui.addHostOpen = true),
    ),
    cmd(
      'host.connect',
      'commands.label.connect',
      () => {
        const h = remoteHost();
        if (!h) return needRemote();
        if (hosts.busy.has(h.name)) return t('commands.why.busy');
        if (h.state === 'connected') return t('commands.why.alreadyConnected', { host: h.name });
        return h.state === 'connecting' ? t('commands.why.alreadyConnecting', { host: h.name }) : null;
      },
      () => {
        const h = remoteHost();
        if (h) void hosts.connect(h.name);
      },
    ),
    cmd(
      'host.disconnect',
      'commands.label.disconnect',
      () => {
        const h = remoteHost();
        if (!h) return needRemote();
        if (hosts.busy.has(h.name)) return t('commands.why.busy');
        return h.state === 'connected' || h.state === 'connecting' ? null : t('commands.why.hostDown', { host: h.name });
      },
      () => {
        const h = remoteHost();
        if (h) void hosts.disconnect(h.name);
      },
    ),
    cmd(
      'host.remove',
      'commands.label.removeHost',
      () => needRemote() ?? (hosts.busy.has(machines.selectedHost) ? t('commands.why.busy') : null),
      () => void confirmRemoveHost(machines.selectedHost),
    ),
    cmd(
      'help.about',
      'commands.label.about',
      () => null,
      () => (ui.aboutOpen = true),
    ),
  ];

  async function confirmRemoveHost(name: string): Promise<void> {
    if (isLocalHost(name)) return;
    const ok = await ElMessageBox.confirm(t('commands.removeHost.confirm', { name }), t('commands.removeHost.title'), {
      type: 'warning',
      confirmButtonText: t('common.remove'),
      cancelButtonText: t('common.cancel'),
    }).then(
      () => true,
      () => false,
    );
    if (ok) await hosts.remove(name);
  }

  async function confirmRemove(m: HostedMachine): Promise<void> {
    const name = machines.displayName(m);
    const question = isLocalHost(m.host)
      ? t('commands.remove.confirm', { name })
      : t('commands.remove.confirmOnHost', { name, host: m.host });
    const ok = await ElMessageBox.confirm(question, t('commands.remove.title'), {
      type: 'warning',
      confirmButtonText: t('common.remove'),
      cancelButtonText: t('common.cancel'),
    }).then(
      () => true,
      () => false,
    );
    if (ok) await machines.remove(m, false);
  }

  async function confirmDiscard(m: HostedMachine): Promise<void> {
    const name = machines.displayName(m);
    const ok = await ElMessageBox.confirm(t('commands.discardState.confirm', { name }), t('commands.discardState.title'), {
      type: 'warning',
      confirmButtonText: t('commands.discardState.discard'),
      cancelButtonText: t('common.cancel'),
    }).then(
      () => true,
      () => false,
    );
    if (!ok) return;
    try {
      await apiFor(m.host).discardSavedState(m.uuid);
      await machines.refresh(m.host);
    } catch (err) {
      await reportError(t('commands.discardState.failed', { name }), err);
    }
  }

  return Object.fromEntries(list.map((c) => [c.id, c])) as Record<CommandId, Command>;
}

let registry: Record<CommandId, Command> | null = null;

/** The registry (created on first use, once Pinia is active). */
export function useCommands(): Record<CommandId, Command> {
  registry ??= createCommands();
  return registry;
}

/** Runs a command by id if it is enabled now; unknown ids (e.g. from an older native menu) are ignored. */
export function runCommand(id: string): void {
  if (!isCommandId(id)) return;
  const c = useCommands()[id];
  if (c.disabledReason() === null) void c.run();
}
