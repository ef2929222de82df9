// The manager end to end: Debian's Chromium clicks through the UI served by `vmdesk serve`, which
// drives real QEMU guests (the demo guest, under TCG). One machine goes through its whole life:
// wizard, start, serial and display consoles (two viewers), pause/resume from the toolbar and the
// menu, a memory change applied at the next start, ACPI shutdown, removal with its disks.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { findDemoGuest, DEMO_PROMPT } from '../src-main/core/demo/demo-guest.js';
import { launchBrowser, listMachineDirs, openUi, ok, pageProblems, serve, type Served } from './harness.js';

const NAME = 'e2e demo';
/** Set VMDESK_SCREENSHOTS=docs/screenshots to refresh the README's pictures. */
const SHOTS = process.env.VMDESK_SCREENSHOTS;
const GUEST_TIMEOUT = 120_000;

async function shot(page: Page, file: string): Promise<void> {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, file) });
}

describe('the manager in a browser, against vmdesk serve and real QEMU', () => {
  let served: Served;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let consolePage: Page;
  let uuid = '';
  let kernelRelease = '';

  const row = (): Locator => page.getByRole('option', { name: new RegExp(`^${NAME}, `) });
  const expectState = async (label: string): Promise<void> => {
    await expect.poll(() => row().getAttribute('aria-label'), { timeout: GUEST_TIMEOUT }).toBe(`${NAME}, ${label}`);
  };
  const serialRows = (p: Page): Locator => p.locator('[data-testid="serial-console"] .xterm-rows');
  const typeInSerial = async (p: Page, text: string): Promise<void> => {
    await p.locator('[data-testid="serial-console"] .xterm').click();
    await p.keyboard.type(text);
  };
  const menu = async (title: string, item: string): Promise<void> => {
    await page.getByRole('menubar', { name: 'Menu bar' }).getByText(title, { exact: true }).click();
    const entry = page.getByRole('menuitem', { name: item, exact: true });
    await entry.click();
  };

  beforeAll(async () => {
    const demo = await findDemoGuest();
    kernelRelease = demo?.version.split(' ')[1] ?? '';
    served = await serve();
    browser = await launchBrowser();
    ({ context, page } = await openUi(browser, served));
  });

  afterAll(async () => {
    await browser?.close();
    if (served) {
      for (const dir of listMachineDirs(served.sb)) await ok(served.sb, ['stop', path.basename(dir), '--force']).catch(() => undefined);
      await served.stop();
    }
  });

  it('opens on the library with the host status: TCG is warned about', async () => {
    const status = page.getByRole('status', { name: 'Status bar' });
    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toMatch(/TCG \(software emulation/);
    await expect.poll(() => status.textContent()).toMatch(/Free memory: .+ of /);
    await expect.poll(() => status.textContent()).toContain('Connected');
    await page.getByText('No machines yet: click New').waitFor();
    expect(kernelRelease).toMatch(/^\d+\.\d+\.\d+-/);
  });

  it('creates a machine with the demo guest by clicking through the wizard', async () => {
    await page.getByRole('toolbar', { name: 'Machine actions' }).getByRole('button', { name: 'New' }).click();
    const wizard = page.getByRole('dialog', { name: 'New machine' });
    await wizard.waitFor();
    await wizard.getByLabel('Name').fill(NAME);
    await wizard.getByRole('button', { name: 'Next' }).click();
    await wizard.getByRole('radio', { name: /Demo guest/ }).check();
    await wizard.getByRole('button', { name: 'Next' }).click();
    await wizard.getByLabel('Memory (MiB)').fill('256');
    await wizard.getByLabel('CPUs').fill('1');
    await shot(page, 'wizard.png');
    await wizard.getByRole('button', { name: 'Next' }).click();
    await wizard.getByRole('button', { name: 'Create' }).click();
    await wizard.waitFor({ state: 'hidden', timeout: GUEST_TIMEOUT });
    await expectState('Powered off');
    const listed = JSON.parse(await ok(served.sb, ['list', '--json'])) as { uuid: string; config: { name: string; memoryMiB: number } }[];
    expect(listed.map((m) => [m.config.name, m.config.memoryMiB])).toEqual([[NAME, 256]]);
    uuid = listed[0]!.uuid;
  });

  it('starts it from the toolbar and shows the shell prompt in the serial console; uname -r answers', async () => {
    await row().click();
    await page.getByRole('toolbar', { name: 'Machine actions' }).getByRole('button', { name: 'Start' }).click();
    await expectState('Running');
    // The console opens in its own window.
    [consolePage] = await Promise.all([
      context.waitForEvent('page'),
      page.getByRole('toolbar', { name: 'Machine actions' }).getByRole('button', { name: 'Console' }).click(),
    ]);
    expect(consolePage.url()).toContain(`#/console/${uuid}`);
    await consolePage.getByRole('tab', { name: 'Serial' }).click();
    await serialRows(consolePage).getByText(DEMO_PROMPT.trim()).first().waitFor({ timeout: GUEST_TIMEOUT });
    await typeInSerial(consolePage, 'uname -r\n');
    await serialRows(consolePage).getByText(kernelRelease).first().waitFor({ timeout: 30_000 });
    await shot(consolePage, 'console-serial.png');
  });

  it('a second tab on the same console sees the same output, scrollback included', async () => {
    const second = await context.newPage();
    await second.goto(consolePage.url());
    await second.getByRole('tab', { name: 'Serial' }).click();
    // What was printed before it connected comes from the core's scrollback.
    await serialRows(second).getByText(kernelRelease).first().waitFor({ timeout: 30_000 });
    await typeInSerial(consolePage, 'echo two-viewers-$((6*7))\n');
    await serialRows(consolePage).getByText('two-viewers-42').first().waitFor({ timeout: 30_000 });
    await serialRows(second).getByText('two-viewers-42').first().waitFor({ timeout: 30_000 });
    expect(pageProblems(second)).toEqual([]);
    await second.close();
  });

  it('shows a non-blank guest screen in the display console', async () => {
    await consolePage.getByRole('tab', { name: 'Display' }).click();
    const canvas = consolePage.locator('[data-testid="display-console"] canvas').first();
    await canvas.waitFor({ timeout: 30_000 });
    // The guest's VGA console prints the kernel's messages and a prompt: many pixels differ from the background.
    await expect
      .poll(
        () =>
          canvas.evaluate((c: HTMLCanvasElement) => {
            const ctx = c.getContext('2d');
            if (!ctx || c.width < 100 || c.height < 100) return 0;
            const { data } = ctx.getImageData(0, 0, c.width, c.height);
            let lit = 0;
            for (let i = 0; i < data.length; i += 4) if (data[i]! + data[i + 1]! + data[i + 2]! > 120) lit++;
            return lit;
          }),
        { timeout: 60_000, interval: 1000 },
      )
      .toBeGreaterThan(2000);
    await shot(consolePage, 'console-display.png');
  });

  it('pauses and resumes from the toolbar, then from the menu', async () => {
    const toolbar = page.getByRole('toolbar', { name: 'Machine actions' });
    await toolbar.getByRole('button', { name: 'Pause' }).click();
    await expectState('Paused');
    expect(JSON.parse(await ok(served.sb, ['show', NAME, '--json'])).status.state).toBe('paused');
    await toolbar.getByRole('button', { name: 'Resume' }).click();
    await expectState('Running');
    await menu('Machine', 'Pause');
    await expectState('Paused');
    await menu('Machine', 'Resume');
    await expectState('Running');
    expect(JSON.parse(await ok(served.sb, ['show', NAME, '--json'])).status.state).toBe('running');
    // The guest really runs again: it answers on the serial console.
    await consolePage.getByRole('tab', { name: 'Serial' }).click();
    await typeInSerial(consolePage, 'echo after-resume-$((1+1))\n');
    await serialRows(consolePage).getByText('after-resume-2').first().waitFor({ timeout: 30_000 });
    await shot(page, 'main-window.png');
  });

  it('changes the memory in Settings while running; the guest sees it after the next start', async () => {
    await page.getByRole('toolbar', { name: 'Machine actions' }).getByRole('button', { name: 'Settings' }).click();
    const settings = page.getByRole('dialog', { name: /^Settings/ });
    await settings.waitFor();
    await settings.getByText('changes apply at the next start').waitFor();
    await settings.getByRole('tab', { name: 'System' }).click();
    await settings.getByLabel('Memory (MiB)').fill('384');
    await shot(page, 'settings.png');
    await settings.getByRole('button', { name: 'Save' }).click();
    await settings.waitFor({ state: 'hidden' });
    expect(JSON.parse(await ok(served.sb, ['show', NAME, '--json'])).config.memoryMiB).toBe(384);

    // Shut down (ACPI) from the toolbar's Stop menu.
    await page.getByRole('toolbar', { name: 'Machine actions' }).getByRole('button', { name: 'Stop' }).click();
    await page.getByRole('menuitem', { name: 'Shut down (ACPI)' }).click();
    await expectState('Powered off');

    await page.getByRole('toolbar', { name: 'Machine actions' }).getByRole('button', { name: 'Start' }).click();
    await expectState('Running');
    // The console window follows the machine: it reconnects to the new run.
    await consolePage.getByRole('tab', { name: 'Serial' }).click();
    await expect.poll(() => serialRows(consolePage).textContent(), { timeout: GUEST_TIMEOUT }).toContain(DEMO_PROMPT.trim());
    await typeInSerial(consolePage, 'awk \'/MemTotal/ {print "memtotal=" int($2/1024)}\' /proc/meminfo\n');
    await expect
      .poll(
        async () => {
          const m = /memtotal=(\d+)/.exec((await serialRows(consolePage).textContent()) ?? '');
          return m ? Number(m[1]) : 0;
        },
        { timeout: 30_000 },
      )
      .toBeGreaterThan(300);
  });

  it('shuts down from the menu', async () => {
    await menu('Machine', 'Shut down (ACPI)');
    await expectState('Powered off');
    expect(JSON.parse(await ok(served.sb, ['show', NAME, '--json'])).status.state).toBe('stopped');
  });

  it('removes the machine with its disks after a confirmation', async () => {
    const dirs = listMachineDirs(served.sb);
    expect(dirs).toHaveLength(1);
    await page.getByRole('toolbar', { name: 'Machine actions' }).getByRole('button', { name: 'Remove' }).click();
    const confirm = page.getByRole('dialog', { name: 'Remove machine' });
    await confirm.waitFor();
    await confirm.getByRole('button', { name: 'Remove' }).click();
    await row().waitFor({ state: 'detached', timeout: 30_000 });
    expect(fs.existsSync(dirs[0]!)).toBe(false);
    expect(listMachineDirs(served.sb)).toEqual([]);
    await page.getByText('No machines yet: click New').waitFor();
  });

  it('logged no page errors (CSP violations included)', () => {
    expect(pageProblems(page)).toEqual([]);
    expect(pageProblems(consolePage)).toEqual([]);
  });
});
