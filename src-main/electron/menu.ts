/** The native application menu, built from the pure template of menu-template.ts. */
import { Menu, type BrowserWindow, type MenuItemConstructorOptions } from 'electron';
import { IPC_CHANNELS } from './channels.js';
import {
  NOT_AVAILABLE,
  buildMenuTemplate,
  isRendererCommand,
  unavailableLabel,
  type MenuEntry,
  type MenuOptions,
} from './menu-template.js';

export interface MenuHandlers {
  /** The window whose renderer receives the command: the focused one of ours, else the main one. */
  target(): BrowserWindow | null;
  quit(): void;
}

function toItem(entry: MenuEntry, handlers: MenuHandlers): MenuItemConstructorOptions {
  switch (entry.type) {
    case 'separator':
      return { type: 'separator' };
    case 'role':
      return entry.label ? { role: entry.role, label: entry.label } : { role: entry.role };
    case 'unavailable':
      return { label: unavailableLabel(entry.label), enabled: false, sublabel: NOT_AVAILABLE, toolTip: NOT_AVAILABLE };
  }
  const { command, label, accelerator, rendererHandlesKey } = entry;
  return {
    label,
    ...(accelerator ? { accelerator, registerAccelerator: !rendererHandlesKey } : {}),
    click: () => {
      if (!isRendererCommand(command)) return handlers.quit();
      const win = handlers.target();
      if (win && !win.isDestroyed()) win.webContents.send(IPC_CHANNELS.menu, command);
    },
  };
}

export function installApplicationMenu(options: MenuOptions, handlers: MenuHandlers): void {
  const template = buildMenuTemplate(options).map((section) => ({
    label: section.label,
    submenu: section.entries.map((entry) => toItem(entry, handlers)),
  }));
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
