/**
 * The application menu as data: a pure function of where the app runs, unit-tested without
 * Electron. menu.ts turns it into a native menu whose items send their command id to the renderer.
 */

/** Command ids the renderer carries out: the ids of src-renderer/commands.ts the menu uses. */
export const RENDERER_COMMANDS = [
  'machine.new',
  'machine.settings',
  'machine.remove',
  'machine.start',
  'machine.pause',
  'machine.resume',
  'machine.reset',
  'machine.shutdown',
  'machine.poweroff',
  'machine.console',
  'machine.showLog',
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
  'host.add',
  'host.connect',
  'host.disconnect',
  'host.remove',
  'view.tasks',
  'help.about',
] as const;
export type RendererCommand = (typeof RENDERER_COMMANDS)[number];
/** Handled in the main process. */
export type MainCommand = 'app.quit';
export type MenuCommand = RendererCommand | MainCommand;

/** Electron's own menu roles this menu uses. */
export type MenuRole = 'reload' | 'forceReload' | 'toggleDevTools' | 'togglefullscreen' | 'resetZoom' | 'zoomIn' | 'zoomOut';

export const NOT_AVAILABLE = 'not available yet';

export type MenuEntry =
  | {
      type: 'command';
      label: string;
      command: MenuCommand;
      accelerator?: string;
      /**
       * The renderer binds this key itself (it must work in the browser too): the menu shows the
       * accelerator without registering it, so one key press never runs the command twice.
       */
      rendererHandlesKey?: boolean;
    }
  /** A feature that is not built yet: shown, disabled, saying so. */
  | { type: 'unavailable'; label: string }
  | { type: 'role'; role: MenuRole; label?: string }
  | { type: 'separator' };

export interface MenuSection {
  label: string;
  entries: MenuEntry[];
}

export interface MenuOptions {
  /** Unpackaged, started from the source tree: Reload and developer tools are offered. */
  isDev: boolean;
}

const command = (label: string, id: MenuCommand, accelerator?: string, rendererHandlesKey = false): MenuEntry => ({
  type: 'command',
  label,
  command: id,
  ...(accelerator ? { accelerator } : {}),
  ...(rendererHandlesKey ? { rendererHandlesKey } : {}),
});
const unavailable = (label: string): MenuEntry => ({ type: 'unavailable', label });
const separator: MenuEntry = { type: 'separator' };

export function buildMenuTemplate({ isDev }: MenuOptions): MenuSection[] {
  const devEntries: MenuEntry[] = isDev
    ? [{ type: 'role', role: 'reload' }, { type: 'role', role: 'forceReload' }, { type: 'role', role: 'toggleDevTools' }, separator]
    : [];
  return [
    {
      label: '&File',
      entries: [
        command('&Import Appliance…', 'file.import'),
        command('&Export Appliance…', 'machine.export'),
        separator,
        command('Virtual &Media Manager…', 'file.media'),
        command('&Physical Disk to VM (P2V)…', 'file.p2v'),
        separator,
        unavailable('P&references…'),
        separator,
        command('&Quit', 'app.quit', 'CmdOrCtrl+Q'),
      ],
    },
    {
      label: '&Machine',
      entries: [
        command('&New…', 'machine.new', 'CmdOrCtrl+N', true),
        unavailable('&Add…'),
        command('&Settings…', 'machine.settings', 'CmdOrCtrl+S', true),
        command('&Clone…', 'machine.clone'),
        command('Mo&ve…', 'machine.move'),
        command('Mi&grate…', 'machine.migrate'),
        command('&Remove…', 'machine.remove'),
        separator,
        command('S&tart', 'machine.start'),
        command('&Pause', 'machine.pause'),
        command('Res&ume', 'machine.resume'),
        command('R&eset', 'machine.reset'),
        command('Shut &Down', 'machine.shutdown'),
        command('Po&wer Off', 'machine.poweroff'),
        separator,
        command('Take Snaps&hot…', 'machine.snapshot'),
        command('Save State', 'machine.saveState'),
        command('D&iscard Saved State…', 'machine.discardState'),
        command('Write Disk Out (V&2P)…', 'machine.v2p'),
        command('&Back Up…', 'machine.backup'),
        separator,
        command('Show C&onsole', 'machine.console'),
        command('Show &Log…', 'machine.showLog'),
      ],
    },
    {
      label: '&Host',
      entries: [
        command('&Add Host…', 'host.add'),
        separator,
        command('&Connect', 'host.connect'),
        command('&Disconnect', 'host.disconnect'),
        separator,
        command('&Remove Host…', 'host.remove'),
      ],
    },
    {
      label: '&View',
      entries: [
        ...devEntries,
        { type: 'role', role: 'resetZoom' },
        { type: 'role', role: 'zoomIn' },
        { type: 'role', role: 'zoomOut' },
        separator,
        { type: 'role', role: 'togglefullscreen', label: 'Toggle &Full Screen' },
        separator,
        command('&Tasks', 'view.tasks'),
      ],
    },
    { label: '&Help', entries: [command('&About VMDesk', 'help.about')] },
  ];
}

/** Every command id the template uses, in menu order (for tests and the renderer's table). */
export function menuCommands(sections: readonly MenuSection[]): MenuCommand[] {
  return sections.flatMap((s) => s.entries.flatMap((e) => (e.type === 'command' ? [e.command] : [])));
}

export function isRendererCommand(id: MenuCommand): id is RendererCommand {
  return (RENDERER_COMMANDS as readonly string[]).includes(id);
}

/** The label of a disabled, not-yet-built item: the sublabel and tooltip only show on macOS. */
export function unavailableLabel(label: string): string {
  return `${label} (${NOT_AVAILABLE})`;
}
