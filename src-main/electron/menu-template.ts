/**
 * The application menu as data: a pure function of where the app runs, unit-tested without
 * Electron. menu.ts turns it into a native menu whose items send their command id to the renderer.
 * Its labels come from the i18n catalogues (src-main/i18n), in the language it is given.
 */
import { translator, type Key } from '../i18n/i18n.js';
import type { Language } from '../i18n/language.js';

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
  'file.preferences',
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
  /** A feature that is not built yet: shown, disabled, saying so (`note`). */
  | { type: 'unavailable'; label: string; note: string }
  | { type: 'role'; role: MenuRole; label: string }
  | { type: 'separator' };

export interface MenuSection {
  label: string;
  entries: MenuEntry[];
}

export interface MenuOptions {
  /** Unpackaged, started from the source tree: Reload and developer tools are offered. */
  isDev: boolean;
  /** The language of the labels (menu.ts picks it from the desktop's preferred languages). */
  language: Language;
}

const separator: MenuEntry = { type: 'separator' };

export function buildMenuTemplate({ isDev, language }: MenuOptions): MenuSection[] {
  const t = translator(language);
  const command = (label: Key, id: MenuCommand, accelerator?: string, rendererHandlesKey = false): MenuEntry => ({
    type: 'command',
    label: t(label),
    command: id,
    ...(accelerator ? { accelerator } : {}),
    ...(rendererHandlesKey ? { rendererHandlesKey } : {}),
  });
  const unavailable = (label: Key): MenuEntry => ({ type: 'unavailable', label: t(label), note: t('menu.notAvailable') });
  // Electron's own role labels are English on Linux: each role gets a label of ours.
  const role = (r: MenuRole, label: Key): MenuEntry => ({ type: 'role', role: r, label: t(label) });
  const devEntries: MenuEntry[] = isDev
    ? [role('reload', 'menu.reload'), role('forceReload', 'menu.forceReload'), role('toggleDevTools', 'menu.devTools'), separator]
    : [];
  return [
    {
      label: t('menu.file'),
      entries: [
        command('menu.importAppliance', 'file.import'),
        command('menu.exportAppliance', 'machine.export'),
        separator,
        command('menu.mediaManager', 'file.media'),
        command('menu.p2v', 'file.p2v'),
        separator,
        command('menu.preferences', 'file.preferences'),
        separator,
        command('menu.quit', 'app.quit', 'CmdOrCtrl+Q'),
      ],
    },
    {
      label: t('menu.machine'),
      entries: [
        command('menu.new', 'machine.new', 'CmdOrCtrl+N', true),
        unavailable('menu.add'),
        command('menu.settings', 'machine.settings', 'CmdOrCtrl+S', true),
        command('menu.clone', 'machine.clone'),
        command('menu.move', 'machine.move'),
        command('menu.migrate', 'machine.migrate'),
        command('menu.remove', 'machine.remove'),
        separator,
        command('menu.start', 'machine.start'),
        command('menu.pause', 'machine.pause'),
        command('menu.resume', 'machine.resume'),
        command('menu.reset', 'machine.reset'),
        command('menu.shutdown', 'machine.shutdown'),
        command('menu.powerOff', 'machine.poweroff'),
        separator,
        command('menu.snapshot', 'machine.snapshot'),
        command('menu.saveState', 'machine.saveState'),
        command('menu.discardState', 'machine.discardState'),
        command('menu.v2p', 'machine.v2p'),
        command('menu.backup', 'machine.backup'),
        separator,
        command('menu.console', 'machine.console'),
        command('menu.showLog', 'machine.showLog'),
      ],
    },
    {
      label: t('menu.host'),
      entries: [
        command('menu.addHost', 'host.add'),
        separator,
        command('menu.connect', 'host.connect'),
        command('menu.disconnect', 'host.disconnect'),
        separator,
        command('menu.removeHost', 'host.remove'),
      ],
    },
    {
      label: t('menu.view'),
      entries: [
        ...devEntries,
        role('resetZoom', 'menu.resetZoom'),
        role('zoomIn', 'menu.zoomIn'),
        role('zoomOut', 'menu.zoomOut'),
        separator,
        role('togglefullscreen', 'menu.fullScreen'),
        separator,
        command('menu.tasks', 'view.tasks'),
      ],
    },
    { label: t('menu.help'), entries: [command('menu.about', 'help.about')] },
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
export function unavailableLabel(entry: { label: string; note: string }): string {
  return `${entry.label} (${entry.note})`;
}
