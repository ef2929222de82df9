// The manager end to end: Debian's Chromium clicks through the UI served by `vmdesk serve`, which
// drives real QEMU guests (the demo guest, under TCG). One machine goes through its whole life:
// wizard, start, serial and display consoles (two viewers), pause/resume from the toolbar and the
// menu, a memory change applied at the next start, ACPI shutdown, removal with its disks.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { findDemoGuest, DEMO_PROMPT } from '../src-main/core/demo/demo-guest.js';
import { launchBrowser, listMachineDirs, openUi, ok, pageProblems, serve, type Served } from './harness.js';

const NAME = 'e2e demo';
/** Set VMDESK_SCREENSHOTS=docs/screenshots to refresh the README's pictures. */
const SHOTS = process.env.VMDESK_SCREENSHOTS;
const GUEST_TIMEOUT = 120_000;

/** Pictures of what the tests below check, always taken, to look at (not compared). */
const LOOK = path.join(os.tmpdir(), 'vmdesk-e2e-manager');

async function look(page: Page, file: string): Promise<void> {
  fs.mkdirSync(LOOK, { recursive: true });
  await page.waitForTimeout(300); // Element Plus's fades and colour transitions
  await page.screenshot({ path: path.join(LOOK, file) });
}

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
  /** The state as each place shows it: console tag, console title, list tag, details header. */
  const stateWords = async (): Promise<(string | undefined)[]> => [
    (await consolePage.getByTestId('machine-state').textContent())?.trim(),
    (await consolePage.title()).split(' — ')[1],
    (await row().locator('.el-tag').first().textContent())?.trim(),
    (await page.getByTestId('details-state').textContent())?.split(' · ')[0]?.trim(),
  ];
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
    const status = page.getByRole('region', { name: 'Status bar' });
    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toMatch(/TCG \(software emulation/);
    await expect.poll(() => status.textContent()).toMatch(/Free memory: .+ of /);
    await expect.poll(() => status.textContent()).toContain('Connected');
    await page.getByText('No machines yet: click New').waitFor();
    expect(kernelRelease).toMatch(/^\d+\.\d+\.\d+-/);
  });

  it('shows the TCG warning whole on one line; “Why?” opens the probe’s reason by click and by keyboard', async () => {
    const bar = page.getByRole('region', { name: 'Status bar' });
    const warning = bar.getByTestId('status-accel');
    const why = bar.getByRole('button', { name: 'Why is KVM not used?' });
    await warning.waitFor();
    expect(await warning.textContent()).toContain('Accelerator: TCG (software emulation, guests run slowly)');
    // Whole at the default size and at the window's minimum width: the figures after it give way.
    for (const width of [1280, 640]) {
      await page.setViewportSize({ width, height: 800 });
      const fit = await warning.evaluate((e) => ({ scroll: e.scrollWidth, client: e.clientWidth }));
      expect(fit.scroll).toBeLessThanOrEqual(fit.client);
      const [w, y, b] = await Promise.all([warning.boundingBox(), why.boundingBox(), bar.boundingBox()]);
      expect(w && y && b).toBeTruthy();
      expect(w!.x).toBeGreaterThanOrEqual(b!.x);
      expect(y!.x).toBeGreaterThanOrEqual(w!.x + w!.width);
      expect(y!.x + y!.width).toBeLessThanOrEqual(b!.x + b!.width);
      expect(b!.height).toBeLessThanOrEqual(25);
      await look(page, `status-bar-${width}.png`);
    }
    await page.setViewportSize({ width: 1280, height: 800 });

    const probe = JSON.parse(await ok(served.sb, ['host', '--json'])) as { accelerators: { kvm: { reason?: string } } };
    const reason = (probe.accelerators.kvm.reason ?? 'KVM is not available').toLowerCase();
    const popover = page.getByRole('dialog').filter({ has: page.getByTestId('accel-why') });
    // By click, and closed by a second click.
    await why.click();
    await popover.waitFor();
    expect((await popover.getByTestId('accel-reason').textContent())?.toLowerCase()).toContain(reason);
    await look(page, 'status-bar-why.png');
    await why.click();
    await popover.waitFor({ state: 'hidden' });
    // By keyboard: the button is in the tab order, Enter opens, Escape closes.
    expect(await why.evaluate((e) => e.tabIndex)).toBeGreaterThanOrEqual(0);
    await why.focus();
    await page.keyboard.press('Enter');
    await popover.waitFor();
    expect((await popover.getByTestId('accel-reason').textContent())?.toLowerCase()).toContain(reason);
    await page.keyboard.press('Escape');
    await popover.waitFor({ state: 'hidden' });
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

  it('in a browser its shortcuts are Ctrl+Alt+N and Ctrl+Alt+S (Ctrl+N and Ctrl+S are the browser’s), shown in the menu', async () => {
    // Each menu shows its item's shortcut, and says it to assistive technology.
    for (const [title, label, keys] of [
      ['File', 'New…', 'Alt+N'],
      ['Machine', 'Settings…', 'Alt+S'],
    ] as const) {
      const menuTitle = page.getByRole('menubar', { name: 'Menu bar' }).getByText(title, { exact: true });
      await menuTitle.click();
      const item = page.getByRole('menuitem', { name: new RegExp(`^${label}`) });
      await item.waitFor();
      expect(await item.textContent()).toContain(`Ctrl+${keys}`);
      expect(await item.getAttribute('aria-keyshortcuts')).toBe(`Control+${keys}`);
      await menuTitle.click();
      await item.waitFor({ state: 'hidden' });
    }
    await row().click();
    await page.keyboard.press('Control+Alt+KeyN');
    const wizard = page.getByRole('dialog', { name: 'New machine' });
    await wizard.waitFor();
    await wizard.getByRole('button', { name: 'Cancel' }).click();
    await wizard.waitFor({ state: 'hidden' });
    await page.keyboard.press('Control+Alt+KeyS');
    const settings = page.getByRole('dialog', { name: /^Settings/ });
    await settings.waitFor();
    await settings.getByRole('button', { name: 'Close', exact: true }).click();
    await settings.waitFor({ state: 'hidden' });
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

  it('the console window says what the main window says, for each state', async () => {
    const controls = consolePage.getByRole('toolbar', { name: 'Machine controls' });
    await expect.poll(stateWords).toEqual(Array(4).fill('Running'));
    await controls.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(stateWords, { timeout: 30_000 }).toEqual(Array(4).fill('Paused'));
    await look(consolePage, 'console-paused.png');
    await look(page, 'main-paused.png');
    await controls.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(stateWords, { timeout: 30_000 }).toEqual(Array(4).fill('Running'));
  });

  it('Settings says Close after a live change with nothing pending, and Cancel once an edit is pending', async () => {
    await page.getByRole('toolbar', { name: 'Machine actions' }).getByRole('button', { name: 'Settings' }).click();
    const settings = page.getByRole('dialog', { name: /^Settings/ });
    const close = settings.getByRole('button', { name: 'Close', exact: true });
    const cancel = settings.getByRole('button', { name: 'Cancel', exact: true });
    await close.waitFor();
    await settings.getByRole('tab', { name: 'Network' }).click();
    const cable = settings.getByRole('tabpanel', { name: 'Adapter 1' }).getByText('Cable connected', { exact: true });
    // The cable applies at once: nothing is left to save or to undo.
    await cable.click();
    await page.getByText('Adapter 1: cable unplugged').first().waitFor({ timeout: 30_000 });
    expect(JSON.parse(await ok(served.sb, ['show', NAME, '--json'])).config.nics[0].cable).toBe(false);
    await close.waitFor();
    expect(await cancel.count()).toBe(0);
    expect(await settings.getByRole('button', { name: 'Save' }).isDisabled()).toBe(true);
    await look(page, 'settings-close.png');
    await cable.click();
    await page.getByText('Adapter 1: cable connected').first().waitFor({ timeout: 30_000 });
    await close.waitFor();
    // An edit is pending: Cancel (it drops the edit); undone by hand, Close again.
    await settings.getByRole('tab', { name: 'System' }).click();
    await settings.getByLabel('Memory (MiB)').fill('320');
    await settings.getByLabel('Memory (MiB)').press('Tab');
    await cancel.waitFor();
    expect(await close.count()).toBe(0);
    expect(await settings.getByRole('button', { name: 'Save' }).isEnabled()).toBe(true);
    await look(page, 'settings-cancel.png');
    await settings.getByLabel('Memory (MiB)').fill('256');
    await settings.getByLabel('Memory (MiB)').press('Tab');
    await close.waitFor();
    await settings.getByLabel('Memory (MiB)').fill('320');
    await settings.getByLabel('Memory (MiB)').press('Tab');
    await cancel.click();
    await settings.waitFor({ state: 'hidden' });
    const shown = JSON.parse(await ok(served.sb, ['show', NAME, '--json'])) as {
      config: { memoryMiB: number; nics: { cable: boolean }[] };
    };
    expect([shown.config.memoryMiB, shown.config.nics[0]?.cable]).toEqual([256, true]);
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

  it('the console window says Powered off too, in its title and over its consoles', async () => {
    await expect.poll(stateWords, { timeout: 30_000 }).toEqual(Array(4).fill('Powered off'));
    for (const tab of ['Serial', 'Display']) {
      await consolePage.getByRole('tab', { name: tab }).click();
      await consolePage.getByRole('tabpanel', { name: tab }).getByText(`${NAME} is powered off`).waitFor();
    }
    await look(consolePage, 'console-powered-off.png');
  });

  it('removes the machine with its disks after a confirmation', async () => {
    const dirs = listMachineDirs(served.sb);
    expect(dirs).toHaveLength(1);
    await page.getByRole('toolbar', { name: 'Machine actions' }).getByRole('button', { name: 'Remove' }).click();
    const confirm = page.getByRole('dialog', { name: 'Remove machine' });
    await confirm.waitFor();
    await confirm.getByRole('button', { name: 'Remove' }).click();
    await row().waitFor({ state: 'detached', timeout: 30_000 });
    // The row goes once the machine is unregistered; its folder (moved aside, then removed) a moment later.
    await expect.poll(() => listMachineDirs(served.sb), { timeout: 30_000 }).toEqual([]);
    expect(fs.existsSync(dirs[0]!)).toBe(false);
    await page.getByText('No machines yet: click New').waitFor();
  });

  it('logged no page errors (CSP violations included)', () => {
    expect(pageProblems(page)).toEqual([]);
    expect(pageProblems(consolePage)).toEqual([]);
  });
});
