// The main window's first load (issue 12, speed): Element Plus imported on demand and each dialog's
// code fetched when the dialog first opens, under the page's strict CSP. What must not change with
// it: a dialog mounted on its first opening opens filled in, the dark theme switches, and the boxes
// Element Plus makes outside any template (ElMessageBox, ElMessage, ElNotification) are styled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchBrowser, openUi, ok, pageProblems, serve, stopServed, type Served } from './harness.js';
import { menu } from './remote-lab.js';

const NAME = 'first-load';
/** Loaded chunks and colour transitions on 2 shared cores: generous. */
const POLL = { timeout: 15_000 };

/** The scripts the page has fetched so far, by file name. */
const scripts = (page: Page): Promise<string[]> =>
  page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .map((r) => r.name.split('/').pop() ?? '')
      .filter((n) => n.endsWith('.js')),
  );

/** An element's background colour as [r, g, b, alpha]. */
const background = (l: Locator): Promise<number[]> =>
  l.evaluate((e) => {
    const m = /rgba?\(([^)]*)\)/.exec(getComputedStyle(e).backgroundColor);
    return (m?.[1] ?? '0, 0, 0, 0').split(',').map(Number);
  });
const luminance = ([r = 0, g = 0, b = 0]: number[]): number => (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;

describe('the main window’s first load, in a browser', () => {
  let served: Served;
  let browser: Browser;
  let page: Page;
  const row = (): Locator => page.getByRole('option', { name: new RegExp(`^${NAME}, `) });
  const toolbar = (): Locator => page.getByRole('toolbar', { name: 'Machine actions' });

  beforeAll(async () => {
    served = await serve();
    await ok(served.sb, ['create', NAME, '--memory', '64', '--network', 'none']);
    browser = await launchBrowser();
    ({ page } = await openUi(browser, served));
  });

  afterAll(async () => {
    await stopServed(browser, served, []);
  });

  it('shows the list from one script and one stylesheet; no dialog’s code is fetched before it opens', async () => {
    await row().waitFor();
    const loaded = await scripts(page);
    expect(loaded.filter((n) => /^main-[\w-]+\.js$/.test(n))).toHaveLength(1);
    expect(loaded.filter((n) => /Dialog|Wizard|ConsoleView|SnapshotsPane/.test(n))).toEqual([]);
    const sheets = await page.evaluate(() => [...document.styleSheets].map((s) => s.href?.split('/').pop()).filter(Boolean));
    expect(sheets).toHaveLength(1);
  });

  it('shows every message filled in: no placeholder or plural of a message’s source on screen', async () => {
    // Messages with a placeholder and a plural, read in the page: filled in, no "{…}" or "|" of their source.
    await row().waitFor();
    await page.getByRole('option', { name: 'Host This computer, 1 machine' }).waitFor();
    const texts = await page.evaluate(() => [
      document.body.innerText,
      ...[...document.querySelectorAll('[aria-label], [title]')].flatMap((e) => [
        e.getAttribute('aria-label') ?? '',
        e.getAttribute('title') ?? '',
      ]),
    ]);
    expect(texts.filter((text) => /\{\w+\}| \| /.test(text))).toEqual([]);
  });

  it('Settings: its code arrives when first opened, and it opens filled in with the machine', async () => {
    await row().click();
    await toolbar().getByRole('button', { name: 'Settings' }).click();
    const settings = page.getByRole('dialog', { name: /^Settings/ });
    await settings.waitFor();
    await expect.poll(() => settings.getByRole('textbox', { name: 'Name' }).inputValue(), POLL).toBe(NAME);
    expect((await scripts(page)).some((n) => n.startsWith('SettingsDialog-'))).toBe(true);
    await settings.getByRole('button', { name: 'Close', exact: true }).click();
    await settings.waitFor({ state: 'hidden' });
    // Opened again (the component mounted since): filled in again.
    await toolbar().getByRole('button', { name: 'Settings' }).click();
    await expect.poll(() => settings.getByRole('textbox', { name: 'Name' }).inputValue(), POLL).toBe(NAME);
    await settings.getByRole('button', { name: 'Close', exact: true }).click();
    await settings.waitFor({ state: 'hidden' });
  });

  it('follows the dark theme: the page and a dialog loaded later are dark, then light again', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await expect.poll(() => page.evaluate(() => document.documentElement.classList.contains('dark')), POLL).toBe(true);
    await page.keyboard.press('Control+Alt+KeyN');
    const wizard = page.getByRole('dialog', { name: 'New machine' });
    await wizard.waitFor();
    // Element Plus fades colours in: polled until settled.
    await expect.poll(async () => luminance(await background(page.locator('body'))), POLL).toBeLessThan(0.2);
    await expect
      .poll(async () => luminance(await background(page.locator('.el-dialog').filter({ hasText: 'New machine' }))), POLL)
      .toBeLessThan(0.25);
    await wizard.getByRole('button', { name: 'Cancel' }).click();
    await wizard.waitFor({ state: 'hidden' });
    await page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(async () => luminance(await background(page.locator('body'))), POLL).toBeGreaterThan(0.8);
  });

  it('styles ElMessageBox (Remove’s confirmation), ElMessage (a snapshot taken) and ElNotification', async () => {
    await row().click();
    await toolbar().getByRole('button', { name: 'Remove' }).click();
    const confirm = page.getByRole('dialog', { name: 'Remove machine' });
    await confirm.waitFor();
    const box = page.locator('.el-message-box');
    expect(luminance(await background(box))).toBeGreaterThan(0.8);
    expect((await background(box))[3] ?? 1).not.toBe(0);
    expect(await box.evaluate((e) => getComputedStyle(e).borderRadius)).not.toBe('0px');
    expect(await page.locator('.el-overlay-message-box').evaluate((e) => getComputedStyle(e).position)).toBe('fixed');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'hidden' });

    await page.getByRole('tab', { name: 'Snapshots' }).click();
    await page.getByRole('toolbar', { name: 'Snapshot actions' }).getByRole('button', { name: 'Take…' }).click();
    const take = page.getByRole('dialog', { name: `Take snapshot of ${NAME}` });
    await take.getByRole('button', { name: 'Take' }).click();
    const message = page.locator('.el-message').filter({ hasText: 'Took snapshot' });
    await message.waitFor();
    expect(await message.evaluate((e) => getComputedStyle(e).position)).toBe('fixed');
    expect(await message.evaluate((e) => getComputedStyle(e).display)).toBe('flex');

    // No notification without a warning to give: its rules are there, with the others, from the start.
    const rules = await page.evaluate(() =>
      [...document.styleSheets].flatMap((s) => [...s.cssRules].map((r) => (r as CSSStyleRule).selectorText ?? '')),
    );
    expect(rules).toContain('.el-notification');
    expect(pageProblems(page)).toEqual([]);
  });

  it('a dialog whose stylesheet fails to arrive opens all the same, and the stylesheet is asked for again', async () => {
    // The first request of the Clone dialog's stylesheet is cut off (as a busy server's reset would).
    let requests = 0;
    await page.route(/\/assets\/CloneDialog-[\w-]+\.css$/, async (route) => {
      if (requests++ === 0) await route.abort('aborted');
      else await route.continue();
    });
    const warnings: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'warning') warnings.push(msg.text());
    });
    await row().click();
    await menu(page, 'Machine', 'Clone…');
    const dialog = page.getByRole('dialog', { name: `Clone ${NAME}` });
    await dialog.waitFor();
    await expect
      .poll(() => page.evaluate(() => [...document.styleSheets].some((s) => /CloneDialog-[\w-]+\.css$/.test(s.href ?? ''))), POLL)
      .toBe(true);
    await expect.poll(() => requests, POLL).toBe(2);
    expect(warnings.filter((w) => /CloneDialog-[\w-]+\.css failed; asking for it again/.test(w))).toHaveLength(1);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(pageProblems(page)).toEqual([]);
  });
});
