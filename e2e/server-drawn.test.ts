// The main window drawn by `vmdesk serve` into the page of the token URL (issue 12, first render),
// and taken over by the page's script (Vue's hydration): what the server sends to whom, that the list
// is there before any script runs, and that the window taken over is the whole, live window — no
// hydration mismatch, clicks and events work, German too. A reload (no token in the URL) draws itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { WINDOW_START_ID, type WindowStart } from '../src-main/api/window-start.js';
import { eventually, launchBrowser, ok, openUi, pageProblems, serve, stopServed, type Served } from './harness.js';

const NAMES = ['drawn-a', 'drawn-b'];
/** A machine's notes are in the start the page carries: they must not end its script element. */
const NOTES = `</script><script>window.__pwned='start'</script><img src=x onerror="window.__pwned='img'"> & more`;
const POLL = { timeout: 15_000 };

/** The start a page carries, parsed, or null. */
function startOf(html: string): WindowStart | null {
  const m = new RegExp(`<script type="application/json" id="${WINDOW_START_ID}">([^<]*)</script>`).exec(html);
  return m?.[1] ? (JSON.parse(m[1]) as WindowStart) : null;
}

describe('the main window drawn by the server', () => {
  let served: Served;
  let browser: Browser;

  beforeAll(async () => {
    served = await serve();
    await ok(served.sb, ['create', NAMES[0]!, '--memory', '64', '--network', 'none', '--notes', NOTES]);
    await ok(served.sb, ['create', NAMES[1]!, '--memory', '64', '--network', 'none']);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await stopServed(browser, served, []);
  });

  const get = (path: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${served.origin}${path}`, { headers: { 'Accept-Language': 'en-US,en;q=0.9', ...headers } });

  it('the token URL gets the window with its machines, and the answers it was drawn from', async () => {
    const res = await get(`/?token=${served.token}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('set-cookie')).toMatch(/^vmdesk_page=/);
    const html = await res.text();
    const drawn = html.slice(html.indexOf('<div id="app">'), html.indexOf(WINDOW_START_ID));
    expect(drawn).toContain('role="listbox"');
    for (const name of NAMES) expect(drawn).toContain(`>${name}<`);
    expect(html).toContain('<html lang="en">');
    const start = startOf(html);
    expect(start?.locale).toBe('en');
    expect(start?.answers.listMachines.map((m) => m.config?.name).sort()).toEqual(NAMES);
    expect(start?.answers.listMachines.find((m) => m.config?.name === NAMES[0])?.config?.notes).toBe(NOTES);
    // The notes went in escaped: the only script elements are the page's module and the start.
    expect(html.match(/<script/g)).toHaveLength(2);
  });

  it('without the token (the page key cookie alone) nothing of the library is sent', async () => {
    const first = await get(`/?token=${served.token}`);
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const html = await (await get('/', { Cookie: cookie })).text();
    expect(html).toContain('<div id="app"></div>');
    expect(startOf(html)).toBeNull();
    for (const name of NAMES) expect(html).not.toContain(name);
  });

  it('in the browser’s language: German for a German Accept-Language', async () => {
    const html = await (await get(`/?token=${served.token}`, { 'Accept-Language': 'de-AT,de;q=0.9,en;q=0.5' })).text();
    expect(html).toContain('<html lang="de">');
    expect(html).toContain('aria-label="Menüleiste"');
    expect(startOf(html)?.locale).toBe('de');
  });

  it('a machine made since is in the next page drawn', async () => {
    await ok(served.sb, ['create', 'drawn-c', '--memory', '64', '--network', 'none']);
    const count = async (): Promise<number> =>
      startOf(await (await get(`/?token=${served.token}`)).text())?.answers.listMachines.length ?? 0;
    expect(await eventually(count, (n) => n === 3, 15_000, 200)).toBe(3);
    await ok(served.sb, ['delete', 'drawn-c']);
  });

  it('shows the list before any script of the page has run', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto(served.url);
      for (const name of NAMES) await expect(page.getByRole('option', { name: new RegExp(`^${name}, `) }).isVisible()).resolves.toBe(true);
      await expect(page.getByRole('menuitem', { name: 'Machine' }).isVisible()).resolves.toBe(true);
    } finally {
      await context.close();
    }
  });

  async function takenOver(page: Page): Promise<void> {
    await page.waitForFunction(() => performance.getEntriesByName('vmdesk-mounted').length > 0, null, POLL);
    // A mismatch between what the server drew and what the page draws is a console error of Vue's.
    expect(pageProblems(page)).toEqual([]);
    expect(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
  }

  it('the page takes the window over whole: no mismatch, selection, details, the connection, events', async () => {
    const { context, page } = await openUi(browser, served);
    try {
      await takenOver(page);
      await page.getByRole('option', { name: new RegExp(`^${NAMES[1]}, `) }).click();
      await expect(page.getByRole('option', { name: new RegExp(`^${NAMES[1]}, `) }).getAttribute('aria-selected')).resolves.toBe('true');
      await page.getByRole('main').getByText(NAMES[1]!, { exact: true }).first().waitFor(POLL);
      await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor(POLL);
      // Events reach the window taken over: a machine made now shows, one removed goes.
      await ok(served.sb, ['create', 'drawn-live', '--memory', '64', '--network', 'none']);
      await page.getByRole('option', { name: /^drawn-live, / }).waitFor(POLL);
      await ok(served.sb, ['delete', 'drawn-live']);
      await page.getByRole('option', { name: /^drawn-live, / }).waitFor({ state: 'detached', ...POLL });
      // A reload has no token in its URL: the page is served as built and draws itself.
      await page.reload();
      await page.getByRole('option', { name: new RegExp(`^${NAMES[0]}, `) }).waitFor(POLL);
      await takenOver(page);
    } finally {
      await context.close();
    }
  });

  it('German: drawn and taken over in German, without a mismatch', async () => {
    const { context, page } = await openUi(browser, served, { locale: 'de-DE' });
    try {
      await takenOver(page);
      await expect(page.locator('html').getAttribute('lang')).resolves.toBe('de');
      await page.getByRole('menuitem', { name: 'Maschine' }).waitFor(POLL);
      await page.getByRole('option', { name: new RegExp(`^${NAMES[0]}, `) }).click();
      await page.getByRole('main').getByText('Ausgeschaltet').first().waitFor(POLL);
    } finally {
      await context.close();
    }
  });

  it('a language chosen in Preferences wins over the one drawn, once the page runs', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    try {
      await context.addInitScript(() => localStorage.setItem('vmdesk.language', 'de'));
      const page = await context.newPage();
      await page.goto(served.url);
      await page.waitForFunction(() => performance.getEntriesByName('vmdesk-mounted').length > 0, null, POLL);
      await page.getByRole('menuitem', { name: 'Maschine' }).waitFor(POLL);
      await expect(page.locator('html').getAttribute('lang')).resolves.toBe('de');
    } finally {
      await context.close();
    }
  });
});
