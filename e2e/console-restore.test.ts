// The serial console after a restore (issue 12), end to end: Chromium restores a live snapshot of a
// running demo guest from the Snapshots tab of the UI served by `vmdesk serve`, and the console
// window's Serial tab, open all along, shows the screen as it was at the snapshot (the marker printed
// before it, then the prompt) without a key pressed, and nothing printed after the snapshot; the
// machine's agent relaunched its QEMU in place. One guest, 128 MiB.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { DEMO_PROMPT } from '../src-main/core/demo/demo-guest.js';
import { guestSays } from '../src-main/integration/harness.js';
import { launchBrowser, ok, openUi, pageProblems, serve, type Served, stopServed } from './harness.js';

const NAME = 'console restore';
const SNAP = 'At the marker';
const GUEST_TIMEOUT = 120_000;
/** Looked at by hand: the Serial tab right after the restore. */
const SCREENSHOT = path.join(os.tmpdir(), 'vmdesk-console-restore.png');

describe('the Serial tab after a snapshot restore from the UI', () => {
  let served: Served;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let consolePage: Page;

  const row = (): Locator => page.getByRole('option', { name: new RegExp(`^${NAME}, `) });
  const tree = (): Locator => page.getByRole('tree', { name: 'Snapshot tree' });
  const serialText = async (): Promise<string> =>
    (await consolePage.locator('[data-testid="serial-console"] .xterm-rows').textContent()) ?? '';
  /** A line on the serial console through `vmdesk send`; $((…)) makes its output differ from the command line. */
  const print = async (word: string, n: number): Promise<string> => {
    const line = `${word}-${n + 1}`;
    await guestSays(served.sb, NAME, `echo ${word}-$((${n}+1))`, new RegExp(`\\n${line}\\r\\n[^]*${DEMO_PROMPT}`), 60);
    return line;
  };

  beforeAll(async () => {
    served = await serve();
    await ok(served.sb, ['create', NAME, '--demo', '--memory', '128']);
    await ok(served.sb, ['start', NAME]);
    await ok(served.sb, ['wait', NAME, '--text', DEMO_PROMPT, '--timeout', '120'], { timeoutMs: 150_000 });
    browser = await launchBrowser();
    ({ context, page } = await openUi(browser, served));
  });

  afterAll(async () => {
    await stopServed(browser, served, [NAME]);
  });

  it('restores the live snapshot from the tree; the open Serial tab shows the marker and the prompt without typing', async () => {
    const marker = await print('marker', 41);
    await ok(served.sb, ['snapshot', NAME, 'take', SNAP], { timeoutMs: 180_000 });
    const after = await print('after', 42);

    // The console window, on its Serial tab, shows what came after the snapshot.
    await row().click();
    [consolePage] = await Promise.all([
      context.waitForEvent('page'),
      page.getByRole('toolbar', { name: 'Machine actions' }).getByRole('button', { name: 'Console' }).click(),
    ]);
    await consolePage.getByRole('tab', { name: 'Serial' }).click();
    await expect.poll(serialText, { timeout: 30_000 }).toContain(after);

    const { uuid } = JSON.parse(await ok(served.sb, ['show', NAME, '--json'])) as { uuid: string };
    const agentPid = (): string => fs.readFileSync(path.join(served.sb.runtime, uuid, 'agent.pid'), 'utf8');
    const agentBefore = agentPid();
    await page.getByRole('tab', { name: 'Snapshots' }).click();
    await tree().getByText(SNAP).click({ button: 'right' });
    await page.getByRole('menuitem', { name: 'Restore…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Restore snapshot' });
    await dialog.getByText('restored and started again where the snapshot left it').waitFor();
    const takeFirst = dialog.getByRole('checkbox', { name: 'Take a snapshot of the current state first' });
    await dialog.getByText('Take a snapshot of the current state first', { exact: true }).click();
    expect(await takeFirst.isChecked()).toBe(false);
    await dialog.getByRole('button', { name: 'Restore' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: GUEST_TIMEOUT });
    await expect.poll(() => row().getAttribute('aria-label'), { timeout: GUEST_TIMEOUT }).toBe(`${NAME}, Running`);

    // Restored in place: the machine's agent relaunched its QEMU (no new agent).
    expect(agentPid()).toBe(agentBefore);
    // The Serial tab reconnects to the restored machine: the screen at the snapshot, no key pressed.
    // (The terminal starts clean on each new stream: what came after the snapshot goes first.)
    await expect.poll(serialText, { timeout: 30_000 }).not.toContain(after);
    await expect.poll(serialText, { timeout: 30_000 }).toContain(marker);
    const text = await serialText();
    expect(text.lastIndexOf(DEMO_PROMPT.trim())).toBeGreaterThan(text.lastIndexOf(marker));
    await consolePage.screenshot({ path: SCREENSHOT });
    expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(0);
    expect(pageProblems(page)).toEqual([]);
    expect(pageProblems(consolePage)).toEqual([]);
  });

  it('the restored console is live: a line typed in the Serial tab is answered below the replayed screen', async () => {
    await consolePage.locator('[data-testid="serial-console"] .xterm').click();
    await consolePage.keyboard.type('echo typed-$((6*7))\n');
    await expect.poll(serialText, { timeout: 30_000 }).toContain('typed-42');
    const text = await serialText();
    expect(text.indexOf('marker-42')).toBeGreaterThanOrEqual(0);
    expect(text.indexOf('marker-42')).toBeLessThan(text.lastIndexOf('typed-42'));
  });
});
