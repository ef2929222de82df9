// In the desktop app (a preload bridge in the page) the renderer tells the main process which
// language it shows, at start and at each change, through the API's one channel; in a browser it asks nothing.
import { nextTick } from 'vue';
import { afterAll, describe, expect, it } from 'vitest';
import type { PreloadBridge } from '../api/client';

const calls: Array<[string, unknown[]]> = [];
const bridge: PreloadBridge = {
  call: (method, args) => {
    calls.push([method, args]);
    return Promise.resolve({ result: { nativeMenu: true } });
  },
  onEvent: () => () => undefined,
  onMenuCommand: () => () => undefined,
};
const globals = globalThis as { window?: unknown };
const before = globals.window;
globals.window = { vmdesk: bridge };
afterAll(() => {
  globals.window = before;
});

describe('the native menu follows the renderer’s language', () => {
  it('is told the language shown at start, and each new one', async () => {
    const { menuFollowsLanguage } = await import('./menu-language');
    const { showLocale } = await import('../i18n');
    menuFollowsLanguage();
    expect(calls).toEqual([['setMenuLanguage', ['en']]]);
    await showLocale('de');
    await nextTick();
    expect(calls.at(-1)).toEqual(['setMenuLanguage', ['de']]);
    await showLocale('en');
    await nextTick();
    expect(calls.map(([, args]) => args[0])).toEqual(['en', 'de', 'en']);
  });
});
