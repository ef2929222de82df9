// The whole journey by keyboard alone: once the page has loaded, the test only presses keys (page.keyboard)
// — no click, no fill, no focus() — and reads what has the focus. A demo guest is made with the wizard,
// started from the machine list, its serial console reached and typed in, the console's keyboard given
// back with Ctrl+Alt+G, a snapshot taken from the menu bar and found in the snapshot tree, a setting
// changed in Settings, the machine shut down and removed. Each dialog takes the focus, Escape closes
// it and the focus comes back where it was; what has the focus is drawn with a visible outline.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { DEMO_PROMPT } from '../src-main/core/demo/demo-guest.js';
import { launchBrowser, listMachineDirs, ok, openUi, pageProblems, serve, stopServed, type Served } from './harness.js';

const NAME = 'keyboard demo';
const GUEST_TIMEOUT = 120_000;

/** What has the focus: its role, accessible label or text, and whether it is drawn with a focus ring. */
interface Focused {
  tag: string;
  role: string | null;
  label: string;
  id: string;
  ring: boolean;
}

function focused(p: Page): Promise<Focused> {
  return p.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el) return { tag: '', role: null, label: '', id: '', ring: false };
    const style = getComputedStyle(el);
    return {
      tag: el.tagName.toLowerCase(),
      role: el.getAttribute('role'),
      label: (el.getAttribute('aria-label') ?? el.textContent ?? '').trim(),
      id: el.id,
      // An outline, or Element Plus's box-shadow ring (tabs).
      ring: (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none',
    };
  });
}

/** Presses `key` (Tab by default) until what has the focus matches, at most `max` times; not at all if it already does. */
async function pressUntil(p: Page, match: (f: Focused) => boolean, key = 'Tab', max = 40): Promise<Focused> {
  const seen: string[] = [];
  for (let i = 0; i <= max; i++) {
    const f = await focused(p);
    if (match(f)) return f;
    seen.push(`${f.tag}[${f.role ?? ''}] ${f.label.slice(0, 40)}`);
    if (i < max) await p.keyboard.press(key);
  }
  throw new Error(`${key} × ${max} never reached the element; the focus went through:\n${seen.join('\n')}`);
}

describe('the whole journey by keyboard only', () => {
  let served: Served;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let consolePage: Page;

  const row = (): Locator => page.getByRole('option', { name: new RegExp(`^${NAME}, `) });
  const expectState = async (label: string): Promise<void> => {
    await expect.poll(() => row().getAttribute('aria-label'), { timeout: GUEST_TIMEOUT }).toBe(`${NAME}, ${label}`);
  };
  const notes = async (): Promise<string | undefined> =>
    (JSON.parse(await ok(served.sb, ['show', NAME, '--json'])) as { config: { notes?: string } }).config.notes;
  /** From wherever the focus is in the main window, back to the menu bar (its one Tab stop), along it to `title` and into its `item`. */
  const menuItem = async (title: string, item: string): Promise<void> => {
    const inBar = (f: Focused): boolean => f.role === 'menuitem' && f.tag === 'span';
    await pressUntil(page, inBar, 'Shift+Tab');
    await pressUntil(page, (f) => inBar(f) && f.label === title, 'ArrowRight', 5);
    await page.keyboard.press('Enter');
    await pressUntil(page, (f) => f.role === 'menuitem' && f.label.startsWith(item), 'ArrowDown', 30);
    await page.keyboard.press('Enter');
  };

  beforeAll(async () => {
    served = await serve();
    browser = await launchBrowser();
    ({ context, page } = await openUi(browser, served));
    await page.getByText('No machines yet: click New').waitFor({ timeout: 30_000 });
  });

  afterAll(async () => {
    await stopServed(browser, served, [NAME]);
  });

  it('the menu bar is the first Tab stop, with a focus ring; arrows walk it, Escape closes a menu and gives the focus back', async () => {
    await page.keyboard.press('Tab');
    const title = await focused(page);
    expect(title).toMatchObject({ label: 'File', ring: true });
    await page.keyboard.press('ArrowRight');
    expect(await focused(page)).toMatchObject({ role: 'menuitem', label: 'Machine' });
    await page.keyboard.press('ArrowDown');
    const machineMenu = page.getByRole('menu', { name: 'Machine' });
    await machineMenu.waitFor();
    expect((await focused(page)).label).toContain('Settings…');
    // A disabled item is still walked over (said to be unavailable), as desktop menus do.
    await page.keyboard.press('ArrowDown');
    expect(await focused(page)).toMatchObject({ label: 'Start' });
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-disabled'))).toBe('true');
    await page.keyboard.press('Escape');
    await machineMenu.waitFor({ state: 'hidden' });
    expect(await focused(page)).toMatchObject({ role: 'menuitem', label: 'Machine' });
  });

  it('creates the machine with the wizard: Escape closes it first and gives the focus back', async () => {
    await page.keyboard.press('Control+Alt+KeyN');
    const wizard = page.getByRole('dialog', { name: 'New machine' });
    await wizard.waitFor();
    await expect.poll(async () => (await focused(page)).tag).toBe('input');
    await page.keyboard.press('Escape');
    await wizard.waitFor({ state: 'hidden' });
    expect(await focused(page)).toMatchObject({ role: 'menuitem', label: 'Machine' });

    await page.keyboard.press('Control+Alt+KeyN');
    await wizard.waitFor();
    // The Name field has the focus; Enter goes to the next step.
    await expect.poll(async () => (await focused(page)).tag).toBe('input');
    await page.keyboard.type(NAME);
    await page.keyboard.press('Enter');
    // Boot from: the checked radio has the focus; the arrows choose another.
    const demo = wizard.getByRole('radio', { name: /Demo guest/ });
    await expect.poll(async () => (await focused(page)).tag).toBe('input');
    for (let i = 0; i < 5 && !(await demo.isChecked()); i++) await page.keyboard.press('ArrowUp');
    expect(await demo.isChecked()).toBe(true);
    await page.keyboard.press('Enter');
    // Hardware: Memory has the focus.
    await wizard.getByText('Memory (MiB)').waitFor();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('256');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    // Summary: Create has the focus.
    await wizard.getByText('Press Create (or Enter) to make the machine.').waitFor();
    expect(await focused(page)).toMatchObject({ tag: 'button', label: 'Create' });
    await page.keyboard.press('Enter');
    await wizard.waitFor({ state: 'hidden', timeout: GUEST_TIMEOUT });
    await expectState('Powered off');
    const listed = JSON.parse(await ok(served.sb, ['list', '--json'])) as { config: { name: string; memoryMiB: number } }[];
    expect(listed.map((m) => [m.config.name, m.config.memoryMiB])).toEqual([[NAME, 256]]);
  });

  it('starts it from the machine list with Enter, and Enter on the running machine opens its console', async () => {
    // The list is one Tab stop; the arrows walk its rows (the host's header, then the machine).
    await pressUntil(page, (f) => f.role === 'option', 'Tab');
    await pressUntil(page, (f) => f.role === 'option' && f.label.startsWith(`${NAME}, `), 'ArrowDown', 5);
    expect((await focused(page)).ring).toBe(true);
    await page.keyboard.press('Enter');
    await expectState('Running');
    [consolePage] = await Promise.all([context.waitForEvent('page'), page.keyboard.press('Enter')]);
    await consolePage.getByRole('tab', { name: 'Display' }).waitFor();
  });

  it('reaches the serial console, types a command whose output shows, and leaves its key capture with Ctrl+Alt+G', async () => {
    const rows = consolePage.locator('[data-testid="serial-console"] .xterm-rows');
    // The console window in front, as a window the user just opened is (a page behind draws no frame).
    await consolePage.bringToFront();
    // The tabs: one Tab stop; Right arrow selects Serial, which takes the keyboard.
    await pressUntil(consolePage, (f) => f.role === 'tab');
    if ((await focused(consolePage)).id !== 'tab-serial') await consolePage.keyboard.press('ArrowRight');
    await consolePage.locator('.serial-phase').getByText('Connected').waitFor({ timeout: GUEST_TIMEOUT });
    await expect.poll(async () => (await focused(consolePage)).label).toBe('Serial console input');
    const hint = consolePage.getByTestId('keyboard-hint');
    expect(await hint.textContent()).toContain('The console has the keyboard: Ctrl+Alt+G gives it back');
    await consolePage.keyboard.press('Enter');
    await rows.getByText(DEMO_PROMPT.trim()).first().waitFor({ timeout: GUEST_TIMEOUT });
    // Tab goes to the guest's shell while the console has the keyboard (here, a completion).
    await consolePage.keyboard.type('echo keyboard-$((6*7))\n');
    await rows.getByText('keyboard-42').first().waitFor({ timeout: 30_000 });
    await consolePage.keyboard.press('Tab');
    expect((await focused(consolePage)).label).toBe('Serial console input');

    await consolePage.keyboard.press('Control+Alt+KeyG');
    expect(await focused(consolePage)).toMatchObject({ role: 'tab', id: 'tab-serial' });
    expect(await hint.textContent()).toContain('Ctrl+Alt+G gives the keyboard back from a console');
    // The keyboard is the window's again: Tab moves on to the console's own buttons.
    await consolePage.keyboard.press('Tab');
    expect(await focused(consolePage)).toMatchObject({ tag: 'button', label: 'Copy', ring: true });
  });

  it('takes a snapshot from the menu bar and finds it in the snapshot tree', async () => {
    await page.bringToFront();
    expect((await focused(page)).label).toMatch(new RegExp(`^${NAME}, `));
    await menuItem('Machine', 'Take snapshot…');
    const take = page.getByRole('dialog', { name: `Take snapshot of ${NAME}` });
    await take.waitFor();
    // The name has the focus, its proposal selected: typing replaces it.
    await expect.poll(async () => (await focused(page)).label).toBe('Snapshot name');
    await page.keyboard.type('By keyboard');
    await page.keyboard.press('Enter');
    await take.waitFor({ state: 'hidden', timeout: GUEST_TIMEOUT });
    const snaps = JSON.parse(await ok(served.sb, ['snapshot', NAME, 'list', '--json'])) as { roots: { name: string; kind: string }[] };
    expect(snaps.roots.map((s) => [s.name, s.kind])).toEqual([['By keyboard', 'live']]);
    // The focus came back to the menu bar's title the item was chosen from.
    expect(await focused(page)).toMatchObject({ role: 'menuitem', label: 'Machine' });

    // Details' Snapshots tab, then into the tree: the arrows walk its nodes, Enter selects one, its details show.
    // (Taking a snapshot already showed that tab: the arrows are walked only if another one is shown.)
    await pressUntil(page, (f) => f.role === 'tab');
    await pressUntil(page, (f) => f.role === 'tab' && f.label === 'Snapshots', 'ArrowRight', 3);
    await page.keyboard.press('Enter');
    const tree = page.getByRole('tree', { name: 'Snapshot tree' });
    await tree.getByText('By keyboard').waitFor();
    const details = page.locator('.snapshot-details');
    await pressUntil(page, (f) => f.role === 'treeitem');
    await pressUntil(page, (f) => f.role === 'treeitem' && f.label.startsWith('Current state'), 'ArrowDown', 5);
    await page.keyboard.press('Enter');
    await details.waitFor({ state: 'hidden' });
    await pressUntil(page, (f) => f.role === 'treeitem' && f.label.startsWith('By keyboard'), 'ArrowUp', 5);
    expect((await focused(page)).ring).toBe(true);
    await page.keyboard.press('Enter');
    await details.getByText('By keyboard').waitFor();

    // A snapshot taken elsewhere redraws the tree's nodes: Tab still finds a way into it.
    await ok(served.sb, ['snapshot', NAME, 'take', 'From elsewhere']);
    await tree.getByText('From elsewhere').waitFor({ timeout: 30_000 });
    await page.getByRole('tab', { name: 'Snapshots' }).focus();
    await pressUntil(page, (f) => f.role === 'treeitem');
  });

  it('opens Settings with its shortcut, changes the notes, saves with the keyboard', async () => {
    await page.keyboard.press('Control+Alt+KeyS');
    const settings = page.getByRole('dialog', { name: /^Settings/ });
    await settings.getByRole('tab', { name: 'General' }).waitFor();
    await pressUntil(page, (f) => f.tag === 'textarea');
    await page.keyboard.type('Typed without a mouse');
    await pressUntil(page, (f) => f.tag === 'button' && f.label === 'Save');
    await page.keyboard.press('Enter');
    await settings.waitFor({ state: 'hidden', timeout: 30_000 });
    expect(await notes()).toBe('Typed without a mouse');
  });

  it('shuts it down and removes it from the menu bar, confirming with the keyboard', async () => {
    await menuItem('Machine', 'Shut down (ACPI)');
    await expectState('Powered off');
    const dirs = listMachineDirs(served.sb);
    await menuItem('Machine', 'Remove…');
    const confirm = page.getByRole('dialog', { name: 'Remove machine' });
    await confirm.waitFor();
    await pressUntil(page, (f) => f.tag === 'button' && f.label === 'Remove');
    await page.keyboard.press('Enter');
    await row().waitFor({ state: 'detached', timeout: 30_000 });
    expect(dirs.map((d) => fs.existsSync(d))).toEqual([false]);
    await page.getByText('No machines yet: click New').waitFor();
  });

  it('logged no page errors', () => {
    expect(pageProblems(page)).toEqual([]);
    expect(pageProblems(consolePage)).toEqual([]);
  });
});
