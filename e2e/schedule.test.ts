// Scheduled snapshots from the UI, in Chromium against `vmdesk serve`: Settings › Snapshots refuses a
// schedule that keeps nothing and one the core cannot parse (nothing saved), then sets a schedule that
// the library's scheduler runs; its disk snapshot of the stopped demo machine appears in the tree with
// its Scheduled tag, and the run in the task panel. Seconds in the cron expression are allowed only by
// the test-only VMDESK_TEST_SCHEDULE_SECONDS given to the server (and so to the scheduler it starts).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import type { ScheduleStatus } from '../src-main/api/schedule.js';
import { makeSandbox } from '../src-main/integration/harness.js';
import { launchBrowser, ok, openUi, pageProblems, serve, stopServed, type Served } from './harness.js';

const NAME = 'sched demo';
/** Set VMDESK_SCREENSHOTS=docs/screenshots to refresh the docs' pictures. */
const SHOTS = process.env.VMDESK_SCREENSHOTS;

async function shot(page: Page, file: string): Promise<void> {
  if (SHOTS) await page.screenshot({ path: path.join(SHOTS, file) });
}

describe('scheduled snapshots in a browser', () => {
  let served: Served;
  let browser: Browser;
  let page: Page;

  const status = async (): Promise<ScheduleStatus> => JSON.parse(await ok(served.sb, ['schedule', NAME, '--json'])) as ScheduleStatus;
  const choose = async (scope: Locator, field: string, option: string): Promise<void> => {
    // The select's combobox is its hidden input: the visible part is clicked.
    await scope
      .locator('.el-select')
      .filter({ has: page.getByRole('combobox', { name: field }) })
      .click();
    await page.getByRole('option', { name: option, exact: true }).click();
  };

  beforeAll(async () => {
    const sb = makeSandbox();
    sb.env.VMDESK_TEST_SCHEDULE_SECONDS = '1';
    sb.env.VMDESK_SCHEDULER_IDLE_MS = '1000';
    served = await serve(sb);
    await ok(served.sb, ['create', NAME, '--demo', '--disk', '64M']);
    browser = await launchBrowser();
    ({ page } = await openUi(browser, served));
  });

  afterAll(async () => {
    // The schedule off: the scheduler ends by itself a second later.
    if (served) await ok(served.sb, ['schedule', NAME, '--off']).catch(() => undefined);
    await stopServed(browser, served, []);
  });

  it('sets a schedule in Settings › Snapshots; a scheduled snapshot appears in the tree', async () => {
    await page.getByRole('option', { name: new RegExp(`^${NAME}, `) }).click();
    await page.getByRole('toolbar', { name: 'Machine actions' }).getByRole('button', { name: 'Settings' }).click();
    const settings = page.getByRole('dialog', { name: /^Settings/ });
    await settings.getByRole('tab', { name: 'Snapshots' }).click();
    const tab = settings.getByRole('tabpanel', { name: 'Snapshots' });
    await tab.locator('.el-descriptions').getByText('No run yet').waitFor();

    await choose(tab, 'Schedule', 'Cron expression');
    const apply = tab.getByRole('button', { name: 'Apply schedule' });
    // Keeping nothing is refused as typed, with the core's schema.
    await tab.getByLabel('Keep last').fill('0');
    await tab.getByLabel('Keep last').press('Tab');
    await tab.getByText('Keep at least one scheduled snapshot').waitFor();
    expect(await apply.isDisabled()).toBe(true);
    // A cron expression the core cannot read is refused by the core: nothing saved.
    await tab.getByLabel('Keep last').fill('2');
    await tab.getByLabel('Keep last').press('Tab');
    await tab.getByLabel('Cron expression').fill('61 * * * *');
    await apply.click();
    await tab
      .getByRole('alert')
      .getByText(/The schedule was not changed: Invalid cron expression "61 \* \* \* \*"/)
      .waitFor();
    expect((await status()).schedule).toBeNull();

    await tab.getByLabel('Cron expression').fill('*/3 * * * * *');
    await apply.click();
    await tab.getByText('Applied: the schedule runs from now').waitFor();
    const set = await status();
    expect(set.schedule).toMatchObject({ every: 'cron', cron: '*/3 * * * * *', retention: { keepLast: 2 } });
    expect(set.schedulerPid).not.toBeNull();
    await tab.getByText(/Running \(process \d+\)/).waitFor();
    await tab
      .getByText(/Took "scheduled /)
      .waitFor({ timeout: 20_000 })
      .catch(() => undefined);
    await shot(page, 'schedule-settings.png');
    await settings.getByRole('button', { name: 'Close', exact: true }).click();
    await settings.waitFor({ state: 'hidden' });

    // The scheduler, not this page, takes it: the tree shows it when the core says the machine changed.
    await page.getByRole('tab', { name: 'Snapshots' }).click();
    const tree = page.getByRole('tree', { name: 'Snapshot tree' });
    const scheduled = tree.getByRole('treeitem', { name: /^scheduled \d{4}-/ }).first();
    await scheduled.waitFor({ timeout: 30_000 });
    await scheduled.locator('.snapshot-scheduled').first().getByText('Scheduled').waitFor();
    await expect.poll(() => scheduled.locator('.el-tag').first().textContent()).toMatch(/Disk/);
    await tree
      .getByText(/^scheduled \d{4}-/)
      .first()
      .click();
    await page.locator('.snapshot-details').getByText('The schedule (pruned by its retention rule)').waitFor();
    await shot(page, 'schedule-tree.png');

    // The run is in the task history, with its outcome.
    await page
      .getByRole('region', { name: 'Tasks' })
      .getByText(/^Tasks \(/)
      .click();
    const run = page.getByRole('listitem', { name: `Scheduled snapshot of ${NAME}` }).first();
    await run.getByText(/Took "scheduled /).waitFor({ timeout: 15_000 });
    expect(pageProblems(page)).toEqual([]);
  }, 120_000);
});
