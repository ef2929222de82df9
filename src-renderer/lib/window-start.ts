import { STARTING_CALLS, WINDOW_START_ID, type WindowStart } from '../../src-main/api/window-start';
import { LOCALES } from '../i18n/language';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The start of a window `vmdesk serve` drew (src-main/api/window-start.ts), read from the page; null
 * when the page holds none (Electron, a console window, a reload without the token) or one this
 * renderer cannot take over (then the window is drawn anew, as without one).
 */
export function readWindowStart(doc: Document): WindowStart | null {
  const text = doc.getElementById(WINDOW_START_ID)?.textContent;
  if (!text) return null;
  let start: unknown;
  try {
    start = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(start) || !isObject(start.answers)) return null;
  const answers = start.answers;
  if (!STARTING_CALLS.every((call) => call in answers)) return null;
  if (!(LOCALES as readonly unknown[]).includes(start.locale)) return null;
  if (typeof start.listHeight !== 'number' || !(start.listHeight > 0)) return null;
  return start as unknown as WindowStart;
}
