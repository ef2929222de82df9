// The machine list with 200 machines (issue 12): only the rows on screen are in the DOM, yet a
// screen reader still learns the count and each row's place, and the keyboard, the scroll bar, the
// search and the selection reach every machine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { Core } from '../src-main/core/core.js';
import { makeSandbox } from '../src-main/integration/harness.js';
import { launchBrowser, openUi, pageProblems, serve, stopServed, type Served } from './harness.js';

const COUNT = 200;
const LAST = `m${COUNT - 1}`;
const POLL = { timeout: 10_000 };

describe('a library of 200 machines in the main window', () => {
  let served: Served;
  let browser: Browser;
  let page: Page;
  const list = (): Locator => page.getByRole('listbox', { name: 'Machine list' });
  const option = (name: string): Locator => list().getByRole('option', { name: new RegExp(`^${name}, `) });
  const header = (): Locator => list().getByRole('option', { name: /^Host This computer, / });
  /** The focused element's accessible name and its place in its set. */
  const focused = (): Promise<string> =>
    page.evaluate(() => {
      const e = document.activeElement;
      return `${e?.getAttribute('aria-label')} (${e?.getAttribute('aria-posinset')}/${e?.getAttribute('aria-setsize')})`;
    });
  /** The machine the details pane shows (its heading). */
  const detailsOf = (name: string): Locator => page.getByRole('main').getByText(name, { exact: true }).first();

  beforeAll(async () => {
    const sb = makeSandbox();
    // Made through the core, as bench/ui.mjs makes its library: 200 runs of the CLI take minutes.
    const core = new Core({ env: sb.env });
    for (let i = 0; i < COUNT; i++) await core.create({ name: `m${String(i).padStart(3, '0')}`, memoryMiB: 64, network: 'none' }).result;
    served = await serve(sb);
    browser = await launchBrowser();
    ({ page } = await openUi(browser, served));
    await option('m000').waitFor({ timeout: 30_000 });
  });

  afterAll(async () => {
    await stopServed(browser, served, []);
  });

  it('draws only the rows on screen, each saying its place among the 200', async () => {
    const drawn = await list().getByRole('option').count();
    expect(drawn).toBeGreaterThan(5);
    expect(drawn).toBeLessThan(60);
    expect(await option(LAST).count()).toBe(0);
    expect(await option('m000').getAttribute('aria-setsize')).toBe(String(COUNT));
    expect(await option('m000').getAttribute('aria-posinset')).toBe('1');
    expect(await option('m005').getAttribute('aria-posinset')).toBe('6');
    expect(await header().getAttribute('aria-label')).toBe('Host This computer, 200 machines');
  });

  it('End reaches the last machine and selects it; the arrows and Home walk back, the focus never lost', async () => {
    await option('m000').click();
    await page.keyboard.press('End');
    await expect.poll(focused, POLL).toBe(`${LAST}, Powered off (200/200)`);
    expect(await option(LAST).getAttribute('aria-selected')).toBe('true');
    await detailsOf(LAST).waitFor();
    await page.keyboard.press('ArrowUp');
    await expect.poll(focused, POLL).toBe('m198, Powered off (199/200)');
    // Scrolled away from the focused row (the wheel over the list): it stays drawn and focused.
    await list().hover();
    await page.mouse.wheel(0, -100_000);
    await expect.poll(() => option('m000').count(), POLL).toBe(1);
    expect(await focused()).toBe('m198, Powered off (199/200)');
    await page.keyboard.press('ArrowDown');
    await expect.poll(focused, POLL).toBe(`${LAST}, Powered off (200/200)`);
    await page.keyboard.press('Home');
    await expect.poll(focused, POLL).toBe('Host This computer, 200 machines (1/1)');
    await page.keyboard.press('ArrowDown');
    await expect.poll(focused, POLL).toBe('m000, Powered off (1/200)');
  });

  it('Enter on the header folds the 200 rows away and back', async () => {
    await header().focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => list().getByRole('option').count(), POLL).toBe(1);
    await page.keyboard.press('Enter');
    await option('m000').waitFor();
  });

  it('scrolling reaches the last machine, which a click selects', async () => {
    await list().evaluate((e) => e.scrollTo({ top: e.scrollHeight }));
    await option(LAST).click();
    expect(await option(LAST).getAttribute('aria-selected')).toBe('true');
    await detailsOf(LAST).waitFor();
  });

  it('the search narrows the list to the machines it matches, each counted among those; a match is selected and stays so', async () => {
    await page.getByRole('textbox', { name: 'Search machines' }).fill('m15');
    await expect.poll(() => list().getByRole('option').count(), POLL).toBe(11);
    expect(await option('m157').getAttribute('aria-setsize')).toBe('10');
    expect(await option('m157').getAttribute('aria-posinset')).toBe('8');
    await option('m157').click();
    await detailsOf('m157').waitFor();
    await page.getByRole('textbox', { name: 'Search machines' }).fill('');
    // The whole list again, the selected machine among it and still selected.
    await expect.poll(() => option('m157').getAttribute('aria-selected'), POLL).toBe('true');
    expect(await option('m157').getAttribute('aria-setsize')).toBe(String(COUNT));
    expect(pageProblems(page)).toEqual([]);
  });
});
