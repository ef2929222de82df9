/**
 * Every user command, by id: the toolbar, the in-app menu bar, the context menu, keyboard shortcuts
 * and Electron's native menu (through window.vmdesk.onMenuCommand) all run these.
 */
import { ElMessageBox } from 'element-plus';
import { useMachinesStore } from './stores/machines';
import { useUiStore } from './stores/ui';
import { consoleHref } from './lib/route';
import { isActive } from './lib/machine-info';
import type { MachineSummary } from '../src-main/api/types';
import { api } from './api/client';
import { runInBackground } from './lib/run-task';
import { reportError } from './lib/report-error';

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
  'machine.export',
  'machine.v2p',
  'file.import',
  'file.media',
  'file.p2v',
  'view.tasks',
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
  const ui = useUiStore();
  const sel = (): MachineSummary | null => machines.selected;
  const state = (): string | undefined => sel()?.status.state;
  const needMachine = (): string | null => (sel() ? null : 'Select a machine first');
  const whenState = (allowed: string[], why: string) => (): string | null =>
    needMachine() ?? (allowed.includes(state() ?? '') ? null : why);
  const withSelected = (fn: (m: MachineSummary) => unknown) => (): void => {
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
      () => (ui.wizardOpen = true),
      'Ctrl+N',
    ),
    cmd(
      'machine.settings',
      'Settings…',
      () => needMachine() ?? (sel()?.config ? null : 'The machine configuration cannot be read'),
      withSelected((m) => (ui.settingsUuid = m.uuid)),
      'Ctrl+S',
    ),
    cmd(
      'machine.start',
      'Start',
      whenState(['stopped', 'crashed'], 'The machine is already running'),
      withSelected((m) => machines.start(m.uuid)),
    ),
    cmd(
      'machine.pause',
      'Pause',
      whenState(['running'], 'Only a running machine can be paused'),
      withSelected((m) => machines.pause(m.uuid)),
    ),
    cmd(
      'machine.resume',
      'Resume',
      whenState(['paused'], 'Only a paused machine can be resumed'),
      withSelected((m) => machines.resume(m.uuid)),
    ),
    cmd(
      'machine.reset',
      'Reset',
      whenState(['running', 'paused'], 'The machine is not running'),
      withSelected((m) => machines.reset(m.uuid)),
    ),
    cmd(
      'machine.shutdown',
      'Shut down (ACPI)',
      whenState(['running', 'starting'], 'The machine is not running'),
      withSelected((m) => machines.shutdown(m.uuid)),
    ),
    cmd(
      'machine.poweroff',
      'Power off',
      whenState(['running', 'paused', 'starting', 'stopping'], 'The machine is not running'),
      withSelected((m) => machines.powerOff(m.uuid)),
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
      withSelected((m) => ui.showLog(m.uuid)),
    ),
    cmd(
      'machine.console',
      'Console',
      whenState(['running', 'paused', 'starting', 'stopping'], 'Start the machine to see its console'),
      withSelected((m) => window.open(consoleHref(m.uuid), `vmdesk-console-${m.uuid}`)),
    ),
    cmd(
      'machine.snapshot',
      'Take snapshot…',
      () =>
        whenState(['stopped', 'crashed', 'running', 'paused'], 'Wait until the machine has started or stopped')() ??
        (sel()?.savedState ? 'The machine has a saved state: start it or discard the state first' : null),
      withSelected((m) => (ui.takeSnapshotUuid = m.uuid)),
    ),
    cmd(
      'machine.saveState',
      'Save state',
      whenState(['running', 'paused'], 'Only a running machine can save its state'),
      withSelected((m) =>
        runInBackground<{ file: string }>(
          `Save the state of ${machines.displayName(m.uuid)}`,
          () => api.saveState(m.uuid),
          () => {
            return `Saved the state of ${machines.displayName(m.uuid)}: the next start resumes from it`;
          },
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
      withSelected((m) => (ui.clone = { uuid: m.uuid })),
    ),
    cmd(
      'machine.move',
      'Move…',
      whenState(['stopped', 'crashed'], 'Shut the machine down before moving it'),
      withSelected((m) => (ui.moveUuid = m.uuid)),
    ),
    cmd(
      'machine.export',
      'Export appliance…',
      whenState(['stopped', 'crashed'], 'Shut the machine down before exporting it'),
      withSelected((m) => (ui.exportUuid = m.uuid)),
    ),
    cmd(
      'machine.v2p',
      'Write disk out (V2P)…',
      () =>
        whenState(['stopped', 'crashed'], 'Shut the machine down before writing its disk out')() ??
        (sel()?.config?.disks.length ? null : 'The machine has no disk'),
      withSelected((m) => (ui.v2pUuid = m.uuid)),
    ),
    cmd(
      'file.import',
      'Import appliance…',
      () => null,
      () => (ui.importOpen = true),
    ),
    cmd(
      'file.media',
      'Virtual media manager…',
      () => null,
      () => (ui.mediaOpen = true),
    ),
    cmd(
      'file.p2v',
      'Physical disk to VM (P2V)…',
      () => null,
      () => (ui.p2vOpen = true),
    ),
    cmd(
      'view.tasks',
      'Tasks',
      () => null,
      () => (ui.tasksExpanded = !ui.tasksExpanded),
    ),
    cmd(
      'help.about',
      'About VMDesk',
      () => null,
      () => (ui.aboutOpen = true),
    ),
  ];

  async function confirmRemove(m: MachineSummary): Promise<void> {
    const name = machines.displayName(m.uuid);
    const ok = await ElMessageBox.confirm(
      `Remove “${name}”? Its folder and the disks inside it are deleted; disks attached from elsewhere are kept.`,
      'Remove machine',
      { type: 'warning', confirmButtonText: 'Remove', cancelButtonText: 'Cancel' },
    ).then(
      () => true,
      () => false,
    );
    if (ok) await machines.remove(m.uuid, false);
  }

  async function confirmDiscard(m: MachineSummary): Promise<void> {
    const name = machines.displayName(m.uuid);
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
      await api.discardSavedState(m.uuid);
      await machines.refresh();
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
