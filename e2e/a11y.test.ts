// Accessibility: axe-core run by Chromium on every part of the manager served by `vmdesk serve` —
// the main window, each step of the New machine wizard, every tab of Settings, the snapshot tree, every
// dialog, the console window's Serial and Display tabs — in the light and the dark theme, against a
// real demo guest (stopped, then running). No critical or serious violation may come back; when one
// does, the test fails with one line per element (rule, impact, where, selector, what axe says).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { makeSandbox, skipBecause } from '../src-main/integration/harness.js';
import { sshHostUnavailable, startSshHost, type SshHost } from '../src-main/integration/ssh-host.js';
import { axeBothThemes, describeFindings, severe, type Finding } from './axe.js';
import { launchBrowser, ok, openUi, serve, stopServed, type Served } from './harness.js';
import { addHost, menu } from './remote-lab.js';

const NAME = 'a11y demo';
const SNAP = 'Clean install';
const GUEST_TIMEOUT = 120_000;
/**
 * Pictures of every scanned view in both themes, to look at (not compared), when
 * VMDESK_E2E_A11Y_PICTURES is set: 80 screenshots cost the suite half a minute.
 */
const LOOK = process.env.VMDESK_E2E_A11Y_PICTURES ? path.join(os.tmpdir(), 'vmdesk-e2e-a11y') : null;
const noSshHost = sshHostUnavailable();

describe('accessibility (axe-core) of the manager in a browser, light and dark', () => {
  let served: Served;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let host: SshHost | undefined;
  /** Every finding, printed at the end (moderate and minor ones are not failed on). */
  const everything: Finding[] = [];

  const toolbar = (): Locator => page.getByRole('toolbar', { name: 'Machine actions' });
  const row = (): Locator => page.getByRole('option', { name: new RegExp(`^${NAME}, `) });
  const dialog = (name: string | RegExp): Locator => page.getByRole('dialog', { name });

  /** Scans `p` as it is now in both themes, pictures included; returns the critical and serious findings. */
  async function scan(where: string, p: Page = page): Promise<Finding[]> {
    // A page behind another draws nothing (its screenshot waits forever): the console window is a second page.
    await p.bringToFront();
    // A toast fading out is drawn half-transparent: axe would measure the fade, not its colours.
    await expect.poll(() => p.locator('.el-message').count(), { timeout: 10_000 }).toBe(0);
    const found = await axeBothThemes(p, where, async (theme) => {
      if (!LOOK) return;
      fs.mkdirSync(LOOK, { recursive: true });
      await p.screenshot({ path: path.join(LOOK, `${where.replace(/[^\w-]+/g, '_')}-${theme}.png`) });
    });
    everything.push(...found);
    return severe(found);
  }

  /** Fails with the readable list of what came back. */
  function expectNone(found: Finding[]): void {
    expect(found, `axe found ${found.length} critical or serious violation(s):\n${describeFindings(found)}`).toEqual([]);
  }

  async function closeDialog(d: Locator): Promise<void> {
    await page.keyboard.press('Escape');
    await d.waitFor({ state: 'hidden' });
  }

  beforeAll(async () => {
    const sb = makeSandbox();
    await ok(sb, ['create', NAME, '--demo', '--memory', '128', '--notes', 'A demo guest for the accessibility scan']);
    await ok(sb, ['snapshot', NAME, 'take', SNAP, '--description', 'Before anything']);
    if (!noSshHost) host = await startSshHost({ name: 'a11y' });
    served = await serve(host ? { ...sb, env: { ...sb.env, VMDESK_SSH_CONFIG: host.sshConfig } } : sb);
    browser = await launchBrowser();
    // axe-core is injected as an inline script, which the page's CSP refuses.
    ({ context, page } = await openUi(browser, served, { bypassCSP: true }));
    await row().waitFor({ timeout: 30_000 });
  });

  // A test that failed half-way leaves no dialog open over the next one's.
  afterEach(async () => {
    for (let i = 0; i < 3 && (await page.getByRole('dialog').filter({ visible: true }).count()) > 0; i++)
      await page.keyboard.press('Escape');
  });

  afterAll(async () => {
    if (everything.length) console.log(`axe's findings:\n${describeFindings(everything)}`);
    await stopServed(browser, served, [NAME]);
    await served?.sb.cleanup();
    await host?.stop();
  });

  it('the main window: list, toolbar, menus, details, tasks and status bar', async () => {
    const found: Finding[] = [];
    found.push(...(await scan('main-empty-selection')));
    await row().click();
    found.push(...(await scan('main-details')));
    await page
      .getByRole('option', { name: /^Host / })
      .first()
      .click();
    found.push(...(await scan('main-host')));
    await row().click();
    for (const title of ['File', 'Machine']) {
      await page.getByRole('menubar', { name: 'Menu bar' }).getByText(title, { exact: true }).click();
      await page.getByRole('menuitem').first().waitFor();
      found.push(...(await scan(`menu-${title}`)));
      await page.getByRole('menubar', { name: 'Menu bar' }).getByText(title, { exact: true }).click();
    }
    await row().click({ button: 'right' });
    await page.getByRole('menuitem', { name: 'Settings…' }).waitFor();
    found.push(...(await scan('context-menu')));
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: /^Tasks/ }).click();
    found.push(...(await scan('tasks-open')));
    await page.getByRole('button', { name: /^Tasks/ }).click();
    await page.getByRole('button', { name: 'Why is KVM not used?' }).click();
    found.push(...(await scan('status-why')));
    await page.keyboard.press('Escape');
    await page.getByRole('tab', { name: 'Performance' }).click();
    found.push(...(await scan('performance')));
    await page.getByRole('tab', { name: 'Details' }).click();
    expectNone(found);
  });

  it('the New machine wizard, each step and each boot source', async () => {
    const found: Finding[] = [];
    await toolbar().getByRole('button', { name: 'New' }).click();
    const wizard = dialog('New machine');
    await wizard.waitFor();
    found.push(...(await scan('wizard-name')));
    // A field error, as shown once the user touched a field.
    await wizard.getByLabel('Name').fill(NAME);
    await wizard.locator('.el-form-item__error').waitFor();
    found.push(...(await scan('wizard-name-error')));
    await wizard.getByLabel('Name').fill('a11y wizard');
    await wizard.getByRole('button', { name: 'Next' }).click();
    for (const source of ['ISO image', 'Existing disk image', 'Linux kernel', 'Demo guest']) {
      await wizard.getByRole('radio', { name: new RegExp(source) }).check({ force: true });
      found.push(...(await scan(`wizard-media-${source}`)));
    }
    await wizard.getByRole('button', { name: 'Next' }).click();
    found.push(...(await scan('wizard-hardware')));
    await wizard.getByRole('button', { name: 'Next' }).click();
    found.push(...(await scan('wizard-summary')));
    await closeDialog(wizard);
    expectNone(found);
  });

  it('Settings, every tab (the network adapters and the port forward dialog too)', async () => {
    const found: Finding[] = [];
    await row().click();
    await toolbar().getByRole('button', { name: 'Settings' }).click();
    const settings = dialog(/^Settings/);
    await settings.getByRole('tab').first().waitFor();
    // Every tab there is, whichever were added since this test was written.
    const tabs = (await settings.getByRole('tablist').first().getByRole('tab').allTextContents()).map((t) => t.trim());
    expect(tabs).toEqual(expect.arrayContaining(['General', 'System', 'Display', 'Storage', 'Network', 'Serial', 'Advanced']));
    for (const tab of tabs) {
      await settings.getByRole('tab', { name: tab, exact: true }).first().click();
      found.push(...(await scan(`settings-${tab}`)));
    }
    await settings.getByRole('tab', { name: 'Network', exact: true }).click();
    await settings
      .getByRole('button', { name: /^Add rule… to / })
      .first()
      .click();
    const pf = dialog(/^Add a port forward/);
    await pf.waitFor();
    found.push(...(await scan('port-forward')));
    await pf.getByRole('button', { name: 'Cancel' }).click();
    await pf.waitFor({ state: 'hidden' });
    await closeDialog(settings);
    expectNone(found);
  });

  it('the snapshot tree, its menu and the Take and Restore dialogs', async () => {
    const found: Finding[] = [];
    await row().click();
    await page.getByRole('tab', { name: 'Snapshots' }).click();
    const tree = page.getByRole('tree', { name: 'Snapshot tree' });
    await tree.getByText(SNAP).click();
    found.push(...(await scan('snapshot-tree')));
    await tree.getByText(SNAP).click({ button: 'right' });
    await page.getByRole('menuitem', { name: 'Clone from here…' }).waitFor();
    found.push(...(await scan('snapshot-menu')));
    await page.keyboard.press('Escape');
    const actions = page.getByRole('toolbar', { name: 'Snapshot actions' });
    await actions.getByRole('button', { name: 'Take…' }).click();
    const take = dialog(/^Take snapshot/);
    await take.waitFor();
    found.push(...(await scan('take-snapshot')));
    await closeDialog(take);
    await tree.getByText(SNAP).click();
    await actions.getByRole('button', { name: 'Restore' }).click();
    const restore = dialog('Restore snapshot');
    await restore.waitFor();
    await restore.getByText('Take a snapshot of the current state first', { exact: true }).click();
    found.push(...(await scan('restore-snapshot')));
    await closeDialog(restore);
    await page.getByRole('tab', { name: 'Details' }).click();
    expectNone(found);
  });

  it('the dialogs of the File, Machine and Help menus', async () => {
    const found: Finding[] = [];
    await row().click();
    const dialogs: [string, string, string | RegExp][] = [
      ['File', 'Import appliance…', /^Import appliance/],
      ['File', 'Physical disk to VM (P2V)…', /^Physical disk to VM/],
      ['File', 'Virtual media manager…', /media/i],
      ['File', 'Export appliance…', /^Export appliance/],
      ['Machine', 'Clone…', /^Clone /],
      ['Machine', 'Move…', /^Move /],
      ['Machine', 'Write disk out (V2P)…', /^Write disk out/],
      ['Machine', 'Show log', /Log/],
      ['Help', 'About VMDesk', 'About VMDesk'],
      ['Machine', 'Remove…', 'Remove machine'],
    ];
    for (const [title, item, name] of dialogs) {
      await menu(page, title, item);
      const d = dialog(name);
      await d.waitFor();
      found.push(...(await scan(`dialog-${item}`)));
      await closeDialog(d);
    }
    expectNone(found);
  });

  it('the console window, Serial and Display tabs, with the guest running', async () => {
    const found: Finding[] = [];
    await row().click();
    await toolbar().getByRole('button', { name: 'Start' }).click();
    await expect.poll(() => row().getAttribute('aria-label'), { timeout: GUEST_TIMEOUT }).toBe(`${NAME}, Running`);
    found.push(...(await scan('main-running')));
    const [consolePage] = await Promise.all([context.waitForEvent('page'), toolbar().getByRole('button', { name: 'Console' }).click()]);
    await consolePage.getByRole('tab', { name: 'Serial' }).click();
    await consolePage.locator('.serial-phase').getByText('Connected').waitFor({ timeout: GUEST_TIMEOUT });
    found.push(...(await scan('console-serial', consolePage)));
    await consolePage.getByRole('tab', { name: 'Display' }).click();
    await consolePage.locator('[data-testid="display-console"] canvas').first().waitFor({ timeout: 30_000 });
    found.push(...(await scan('console-display', consolePage)));
    await consolePage.getByRole('toolbar', { name: 'Machine controls' }).getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => row().getAttribute('aria-label'), { timeout: 30_000 }).toMatch(new RegExp(`^${NAME}, Paused`));
    found.push(...(await scan('console-paused', consolePage)));
    found.push(...(await scan('main-paused')));
    await consolePage.getByRole('toolbar', { name: 'Machine controls' }).getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => row().getAttribute('aria-label'), { timeout: 30_000 }).toBe(`${NAME}, Running`);
    await consolePage.close();
    // The running machine's own dialogs: Settings' notice, a live snapshot, the clone's greyed-out Full.
    for (const [item, name] of [
      ['Settings…', /^Settings/],
      ['Take snapshot…', /^Take snapshot/],
      ['Clone…', /^Clone /],
    ] as const) {
      await menu(page, 'Machine', item);
      const d = dialog(name);
      await d.waitFor();
      found.push(...(await scan(`running-${item}`)));
      await closeDialog(d);
    }
    expectNone(found);
  });

  it('Add host (its form and its host-key question) and Migrate', async (ctx) => {
    const found: Finding[] = [];
    if (!host) {
      await menu(page, 'Host', 'Add host…');
      await dialog('Add host').waitFor();
      found.push(...(await scan('add-host')));
      await closeDialog(dialog('Add host'));
      expectNone(found);
      skipBecause(ctx, noSshHost ?? 'no ssh host');
      return;
    }
    const add = await addHost(page, host);
    await add.getByTestId('host-key-question').waitFor({ timeout: 60_000 });
    found.push(...(await scan('add-host-key')));
    await add.getByRole('button', { name: 'Trust and connect' }).click();
    await add.waitFor({ state: 'hidden', timeout: 60_000 });
    await menu(page, 'Host', 'Add host…');
    await dialog('Add host').waitFor();
    found.push(...(await scan('add-host')));
    await closeDialog(dialog('Add host'));
    await row().click();
    await expect.poll(() => toolbar().getByRole('button', { name: 'Migrate' }).isDisabled(), { timeout: 30_000 }).toBe(false);
    await toolbar().getByRole('button', { name: 'Migrate' }).click();
    const migrate = dialog(/^Migrate /);
    await migrate.waitFor();
    await page.waitForTimeout(1000);
    found.push(...(await scan('migrate')));
    await closeDialog(migrate);
    expectNone(found);
  });
});
