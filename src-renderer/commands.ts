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
import { migrationDetail, migrationMode } from './lib/migration';
import { useTasksStore } from './stores/tasks';
import { currentFace, shortcutLabel } from './lib/shortcuts';
import { t } from './i18n';

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
  label: string;
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
    if (!m) return 'Select a machine first';
    return hosts.reachable(m.host) ? null : `${m.host} is not connected`;
  };
  const whenState = (allowed: string[], why: string) => (): string | null =>
    needMachine() ?? (allowed.includes(state() ?? '') ? null : why);
  /** Where New, Import and the media manager act: the host of the selected machine or group, if it is up. */
  const needHost = (): string | null => {
    const h = machines.selectedHost;
    return hosts.reachable(h) ? null : `${h} is not connected`;
  };
  const remoteHost = () => {
    const h = machines.selectedHost;
    return isLocalHost(h) ? null : (hosts.get(h) ?? null);
  };
  const needRemote = (): string | null => (remoteHost() ? null : 'Select a remote host (or one of its machines) first');
  const withSelected = (fn: (m: HostedMachine) => unknown) => (): void => {
    const m = sel();
    if (m) void fn(m);
  };
  const cmd = (id: CommandId, label: string, disabledReason: () => string | null, run: () => void, shortcut?: string): Command => ({
    id,
    label,
    disabledReason,
    run,
    ...(shortcut ? { shortcut } : {}),
  });

  const list: Command[] = [
    cmd(
      'machine.new',
      'New…',
      () => null,
      () => {
        ui.wizardHost = hosts.reachable(machines.selectedHost) ? machines.selectedHost : null;
        ui.wizardOpen = true;
      },
      shortcutLabel('machine.new', face),
    ),
    cmd(
      'machine.settings',
      'Settings…',
      () => needMachine() ?? (sel()?.config ? null : 'The machine configuration cannot be read'),
      withSelected((m) => (ui.settings = { host: m.host, uuid: m.uuid })),
      shortcutLabel('machine.settings', face),
    ),
    cmd(
      'machine.start',
      'Start',
      whenState(['stopped', 'crashed'], 'The machine is already running'),
      withSelected((m) => machines.start(m)),
    ),
    cmd(
      'machine.pause',
      'Pause',
      whenState(['running'], 'Only a running machine can be paused'),
      withSelected((m) => machines.pause(m)),
    ),
    cmd(
      'machine.resume',
      'Resume',
      whenState(['paused'], 'Only a paused machine can be resumed'),
      withSelected((m) => machines.resume(m)),
    ),
    cmd(
      'machine.reset',
      'Reset',
      whenState(['running', 'paused'], 'The machine is not running'),
      withSelected((m) => machines.reset(m)),
    ),
    cmd(
      'machine.shutdown',
      'Shut down (ACPI)',
      whenState(['running', 'starting'], 'The machine is not running'),
      withSelected((m) => machines.shutdown(m)),
    ),
    cmd(
      'machine.poweroff',
      'Power off',
      whenState(['running', 'paused', 'starting', 'stopping'], 'The machine is not running'),
      withSelected((m) => machines.powerOff(m)),
    ),
    cmd(
      'machine.remove',
      'Remove…',
      () => needMachine() ?? (isActive(sel()?.status.state ?? 'stopped') ? 'Stop the machine before removing it' : null),
      withSelected(confirmRemove),
    ),
    cmd(
      'machine.showLog',
      'Show log',
      needMachine,
      withSelected((m) => ui.showLog(m)),
    ),
    cmd(
      'machine.console',
      'Console',
      whenState(['running', 'paused', 'starting', 'stopping'], 'Start the machine to see its console'),
      withSelected((m) => window.open(consoleHref(m), consoleWindowName(m))),
    ),
    cmd(
      'machine.snapshot',
      'Take snapshot…',
      () =>
        whenState(['stopped', 'crashed', 'running', 'paused'], 'Wait until the machine has started or stopped')() ??
        (sel()?.savedState ? 'The machine has a saved state: start it or discard the state first' : null),
      withSelected((m) => (ui.takeSnapshot = { host: m.host, uuid: m.uuid })),
    ),
    cmd(
      'machine.saveState',
      'Save state',
      whenState(['running', 'paused'], 'Only a running machine can save its state'),
      withSelected((m) =>
        runInBackground<{ file: string }>(
          `Save the state of ${machines.displayName(m)}`,
          () => apiFor(m.host).saveState(m.uuid),
          () => {
            return `Saved the state of ${machines.displayName(m)}: the next start resumes from it`;
          },
          m.host,
        ),
      ),
    ),
    cmd(
      'machine.discardState',
      'Discard saved state…',
      () => whenState(['stopped', 'crashed'], 'Stop the machine first')() ?? (sel()?.savedState ? null : 'The machine has no saved state'),
      withSelected(confirmDiscard),
    ),
    cmd(
      'machine.clone',
      'Clone…',
      () => needMachine() ?? (sel()?.config ? null : 'The machine configuration cannot be read'),
      withSelected((m) => (ui.clone = { host: m.host, uuid: m.uuid })),
    ),
    cmd(
      'machine.move',
      'Move…',
      whenState(['stopped', 'crashed'], 'Shut the machine down before moving it'),
      withSelected((m) => (ui.move = { host: m.host, uuid: m.uuid })),
    ),
    cmd(
      'machine.migrate',
      'Migrate…',
      () => {
        const m = sel();
        if (!m) return 'Select a machine first';
        if (!isLocalHost(m.host)) return 'Migration moves a machine of this computer to a remote host: select one of them';
        // Live while it runs, offline once stopped.
        if (state() === 'crashed') return 'The machine crashed: start it again first';
        if (!migrationMode(state())) return 'Wait until the machine has started or stopped';
        if (!hosts.remotes.some((h) => h.state === 'connected')) return 'Connect a remote host to migrate to (Host › Add host…)';
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
      'Export appliance…',
      whenState(['stopped', 'crashed'], 'Shut the machine down before exporting it'),
      withSelected((m) => (ui.exportTarget = { host: m.host, uuid: m.uuid })),
    ),
    cmd(
      'machine.v2p',
      'Write disk out (V2P)…',
      () =>
        whenState(['stopped', 'crashed'], 'Shut the machine down before writing its disk out')() ??
        (sel()?.config?.disks.length ? null : 'The machine has no disk'),
      withSelected((m) => (ui.v2p = { host: m.host, uuid: m.uuid })),
    ),
    cmd(
      'machine.backup',
      'Back up…',
      // Running (live, the guest goes on) or stopped; not while it starts, stops or migrates.
      () => whenState(['running', 'paused', 'stopped', 'crashed'], 'Wait until the machine has started or stopped')(),
      withSelected((m) => (ui.backup = { host: m.host, uuid: m.uuid })),
    ),
    cmd('file.import', 'Import appliance…', needHost, () => (ui.importHost = machines.selectedHost)),
    cmd('file.media', 'Virtual media manager…', needHost, () => (ui.mediaHost = machines.selectedHost)),
    cmd('file.p2v', 'Physical disk to VM (P2V)…', needHost, () => (ui.p2vHost = machines.selectedHost)),
    cmd(
      'file.preferences',
      t('commands.preferences'),
      () => null,
      () => (ui.preferencesOpen = true),
    ),
    cmd(
      'view.tasks',
      'Tasks',
      () => null,
      () => (ui.tasksExpanded = !ui.tasksExpanded),
    ),
    cmd(
      'host.add',
      'Add host…',
      () => null,
      () => (ui.addHostOpen = true),
    ),
    cmd(
      'host.connect',
      'Connect',
      () => {
        const h = remoteHost();
        if (!h) return needRemote();
        if (hosts.busy.has(h.name)) return 'Wait for the last request to end';
        return h.state === 'connected' || h.state === 'connecting' ? `${h.name} is already ${h.state}` : null;
      },
      () => {
        const h = remoteHost();
        if (h) void hosts.connect(h.name);
      },
    ),
    cmd(
      'host.disconnect',
      'Disconnect',
      () => {
        const h = remoteHost();
        if (!h) return needRemote();
        if (hosts.busy.has(h.name)) return 'Wait for the last request to end';
        return h.state === 'connected' || h.state === 'connecting' ? null : `${h.name} is not connected`;
      },
      () => {
        const h = remoteHost();
        if (h) void hosts.disconnect(h.name);
      },
    ),
    cmd(
      'host.remove',
      'Remove host…',
      () => needRemote() ?? (hosts.busy.has(machines.selectedHost) ? 'Wait for the last request to end' : null),
      () => void confirmRemoveHost(machines.selectedHost),
    ),
    cmd(
      'help.about',
      'About VMDesk',
      () => null,
      () => (ui.aboutOpen = true),
    ),
  ];

  async function confirmRemoveHost(name: string): Promise<void> {
    if (isLocalHost(name)) return;
    const ok = await ElMessageBox.confirm(
      `Remove the host “${name}” from VMDesk? Its entry is forgotten and the link closed; its machines stay on it, untouched (running ones keep running). You can add it again later.`,
      'Remove host',
      { type: 'warning', confirmButtonText: 'Remove', cancelButtonText: 'Cancel' },
    ).then(
      () => true,
      () => false,
    );
    if (ok) await hosts.remove(name);
  }

  async function confirmRemove(m: HostedMachine): Promise<void> {
    const name = machines.displayName(m);
    const ok = await ElMessageBox.confirm(
      `Remove “${name}”${isLocalHost(m.host) ? '' : ` from ${m.host}`}? Its folder and the disks inside it are deleted; disks attached from elsewhere are kept.`,
      'Remove machine',
      { type: 'warning', confirmButtonText: 'Remove', cancelButtonText: 'Cancel' },
    ).then(
      () => true,
      () => false,
    );
    if (ok) await machines.remove(m, false);
  }

  async function confirmDiscard(m: HostedMachine): Promise<void> {
    const name = machines.displayName(m);
    const ok = await ElMessageBox.confirm(
      `Discard the saved state of “${name}”? Its next start boots afresh, as after a power failure; unsaved work in the guest is lost.`,
      'Discard saved state',
      { type: 'warning', confirmButtonText: 'Discard', cancelButtonText: 'Cancel' },
    ).then(
      () => true,
      () => false,
    );
    if (!ok) return;
    try {
      await apiFor(m.host).discardSavedState(m.uuid);
      await machines.refresh(m.host);
    } catch (err) {
      await reportError(`Cannot discard the saved state of ${name}`, err);
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
