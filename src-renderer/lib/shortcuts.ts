/**
 * Keyboard shortcuts of the two faces. The desktop app keeps VirtualBox's Ctrl+N and Ctrl+S. In a
 * browser those belong to the browser (Ctrl+N opens a window and never reaches the page; Ctrl+S
 * saves it), so the served UI takes Ctrl+Alt+N and Ctrl+Alt+S, as VS Code for the web picks its own
 * for the keys its browser keeps. Menus and tooltips show the face's own.
 */
import type { CommandId } from '../commands';
import { t } from '../i18n';

export type Face = 'desktop' | 'browser';

/** The commands with a shortcut, and their letter. */
const LETTERS: Partial<Record<CommandId, string>> = { 'machine.new': 'N', 'machine.settings': 'S' };

/** The desktop app is the one with Electron's bridge; every other page is the served UI in a browser. */
export function currentFace(): Face {
  return typeof window !== 'undefined' && window.vmdesk ? 'desktop' : 'browser';
}

/** The shortcut as menus show it (`Ctrl+Alt+N`), or undefined when the command has none. */
export function shortcutLabel(command: CommandId, face: Face): string | undefined {
  const letter = LETTERS[command];
  if (!letter) return undefined;
  return face === 'desktop' ? `Ctrl+${letter}` : `Ctrl+Alt+${letter}`;
}

/** The shortcut as the current language writes it on screen: `Ctrl+Alt+N`, German `Strg+Alt+N`. */
export function shownShortcut(label: string | undefined): string {
  return (label ?? '').replace(/^Ctrl\+/, `${t('main.keys.ctrl')}+`);
}

/** The same for assistive technology (aria-keyshortcuts: `Control+Alt+N`, in every language). */
export function ariaShortcut(label: string | undefined): string | undefined {
  return label?.replace(/^Ctrl\+/, 'Control+');
}

export interface KeyPress {
  key: string;
  code: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
}

/**
 * The command a key press asks for on this face, or null. The browser face reads the physical key
 * (`code`): with Alt held, some layouts give `key` another character.
 */
export function commandForKey(e: KeyPress, face: Face): CommandId | null {
  if (!(e.ctrlKey || e.metaKey) || e.shiftKey || e.altKey !== (face === 'browser')) return null;
  const letter = face === 'browser' ? /^Key([A-Z])$/.exec(e.code)?.[1] : e.key.toUpperCase();
  const found = Object.entries(LETTERS).find(([, l]) => l === letter);
  return found ? (found[0] as CommandId) : null;
}
