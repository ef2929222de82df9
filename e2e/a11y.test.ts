// Accessibility: axe-core run by Chromium on every part of the manager served by `vmdesk serve` —
// the main window, each step of the New machine wizard, every tab of Settings, the snapshot tree, every
// dialog, the console window's Serial and Display tabs — in the light and the dark theme, against a
// real demo guest (stopped, then running). No critical or serious violation may come back; when one
// does, the test fails with one line per element (rule, impact, where, selector, what axe says).
// This file scans the views of the stopped guest; a11y-running.test.ts those of the running guest and
// of the second host (Add host, Migrate), which needs the second host's lab (e2e-lab in
// vitest.config.ts). What both share is a11y-kit.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Finding } from './axe.js';
import { a11yKit, NAME, SNAP } from './a11y-kit.js';
import { menu } from './remote-lab.js';

describe('accessibility (axe-core) of the manager in a browser, light and dark', () => {
  const kit = a11yKit({ sshHost: false });
  const { toolbar, row, dialog, scan, expectNone, closeDialog } = kit;
  let page: Page;
  beforeAll(() => {
    ({ page } = kit);
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
});
