/**
 * The consoles capture the keyboard: Tab, arrows and shortcuts go to the guest while one has the
 * focus. Ctrl+Alt+G gives the keyboard back to the window, as in QEMU's own window (and as
 * VirtualBox's Host key and virt-manager's Ctrl+Alt do); the console window says so.
 */
export const RELEASE_KEY = 'Ctrl+Alt+G';

/** Ctrl+Alt+G, by its physical key: with Alt held some layouts give `key` another character. */
export function isReleaseKey(e: Pick<KeyboardEvent, 'code' | 'ctrlKey' | 'altKey' | 'shiftKey' | 'metaKey'>): boolean {
  return e.code === 'KeyG' && e.ctrlKey && e.altKey && !e.shiftKey && !e.metaKey;
}
