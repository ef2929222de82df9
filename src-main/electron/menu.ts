/** The native application menu, built from the pure template of menu-template.ts. */
import { Menu, app, type BrowserWindow, type MenuItemConstructorOptions } from 'electron';
import { languageForDesktop, type Language } from '../i18n/language.js';
import { IPC_CHANNELS } from './channels.js';
import { buildMenuTemplate, isRendererCommand, unavailableLabel, type MenuEntry, type MenuOptions } from './menu-template.js';

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
      return { role: entry.role, label: entry.label };
    case 'unavailable':
      return { label: unavailableLabel(entry), enabled: false, sublabel: entry.note, toolTip: entry.note };
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

/**
 * The menu in the desktop's language (VMDESK_LANG=en|de overrides it, as for the CLI); call once
 * the app is ready. Returns the way to relabel it in another language: the renderer's own choice
 * (File › Preferences… › Language), which the menu follows from then on.
 */
export function installApplicationMenu(options: Omit<MenuOptions, 'language'>, handlers: MenuHandlers): (language: Language) => void {
  const install = (language: Language): void => {
    const template = buildMenuTemplate({ ...options, language }).map((section) => ({
      label: section.label,
      submenu: section.entries.map((entry) => toItem(entry, handlers)),
    }));
    Menu.setApplicationMenu(Menu.buildFromTemplate(template));
  };
  let shown = languageForDesktop(process.env.VMDESK_LANG, app.getPreferredSystemLanguages(), app.getLocale());
  install(shown);
  return (language) => {
    if (language === shown) return;
    shown = language;
    install(language);
  };
}
