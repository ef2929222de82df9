// Accessibility (see a11y.test.ts): the views of the running guest — the console window's Serial and
// Display tabs, the running machine's own dialogs — and of the second host (Add host with its
// host-key question, Migrate), in the light and the dark theme. It runs among the e2e files of the
// second host's lab (e2e-lab in vitest.config.ts); what it shares with a11y.test.ts is a11y-kit.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { skipBecause } from '../src-main/integration/harness.js';
import type { Finding } from './axe.js';
import { a11yKit, GUEST_TIMEOUT, NAME, noSshHost } from './a11y-kit.js';
import { addHost, menu } from './remote-lab.js';

describe('accessibility (axe-core) of the manager in a browser, light and dark', () => {
  const kit = a11yKit({ sshHost: true });
  const { toolbar, row, dialog, scan, expectNone, closeDialog } = kit;
  let page: Page;
  let context: BrowserContext;
  beforeAll(() => {
    ({ page, context } = kit);
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
    const host = kit.host;
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
