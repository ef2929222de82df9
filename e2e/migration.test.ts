// Live migration end to end: Chromium clicks through the UI served by `vmdesk serve`, which moves a
// running demo guest of this computer to a second host — a real sshd in a network namespace, with its
// own library — over OpenSSH. The host is added from the Host menu; the guest dirties its memory (a
// loop typed into its serial console) while Machine › Migrate… runs with an 8 MiB/s limit, so the
// pre-copy takes several rounds, read from the view's table as they come, and is said not to converge;
// the loop is stopped, the migration ends, and the machine runs on under the other host, its serial
// console answering there with the memory it had here. A stopped machine then moves offline, its
// folder copied.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { DEMO_PROMPT } from '../src-main/core/demo/demo-guest.js';
import { makeSandbox, skipBecause } from '../src-main/integration/harness.js';
import { sshHostUnavailable, startSshHost, type SshHost } from '../src-main/integration/ssh-host.js';
import { ok, pageProblems, type Served } from './harness.js';
import {
  addHost,
  hostRow,
  machineRow,
  menu,
  remoteMachine,
  screenshot,
  serialLines,
  serialRows,
  serveWithHost,
  stopRemoteLab,
  typeInSerial,
  type Listed,
} from './remote-lab.js';

const GUEST_TIMEOUT = 120_000;
const MIGRATION_TIMEOUT = 240_000;
const unavailable = sshHostUnavailable();

const shot = (page: Page, file: string): Promise<void> => screenshot(page, file, { x: 1270, y: 790 });

/** One row of the view's RAM rounds table, as rendered. */
interface ShownRound {
  round: number;
  sent: string;
  remaining: string;
  dirty: string;
  downtime: string;
  remainingBytes: number;
  sentBytes: number;
}

describe('live migration from the UI, over a real SSH link', () => {
  let host: SshHost;
  let served: Served;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let sourceConsole: Page;
  let uuid = '';
  const marker = `moved-${process.pid}`;

  const row = (name: string): Locator => machineRow(page, name);
  const toolbar = (): Locator => page.getByRole('toolbar', { name: 'Machine actions' });
  const dialog = (): Locator => page.getByRole('dialog', { name: 'Migrate web' });
  /** Opens the selected machine's console window on its serial tab, at the guest's prompt; `where`: a remote host, or none. */
  const openSerial = async (where?: string): Promise<Page> => {
    const [p] = await Promise.all([context.waitForEvent('page'), toolbar().getByRole('button', { name: 'Console' }).click()]);
    expect(p.url()).toContain(where ? `#/console/${where}/${uuid}` : `#/console/${uuid}`);
    await p.getByRole('tab', { name: 'Serial' }).click();
    await p.locator('.serial-phase').getByText('Connected').waitFor({ timeout: GUEST_TIMEOUT });
    // A guest that booted before the console was opened (elsewhere, for a migrated one) prompts again on Enter.
    if (where) await typeInSerial(p, '\n');
    await serialRows(p)
      .getByText(DEMO_PROMPT.trim())
      .first()
      .waitFor({ timeout: GUEST_TIMEOUT })
      .catch(async (err: unknown) => {
        // Which side lost it: what the guest wrote to its log there, and what the console says here.
        const log = where ? path.join(host.remoteHome, 'machines', 'web', 'logs', 'serial.log') : '';
        const tail = log && fs.existsSync(log) ? fs.readFileSync(log, 'latin1').slice(-800) : '(no log)';
        const status = await p
          .locator('[data-testid="serial-console"]')
          .textContent({ timeout: 1_000 })
          .catch(() => '?');
        throw new Error(`${String(err)}\nserial.log there ends with:\n${tail}\nconsole shows: ${status}`);
      });
    return p;
  };
  /** The RAM rounds the view shows now. */
  const shownRounds = (): Promise<ShownRound[]> =>
    dialog()
      .getByTestId('migration-rounds')
      .locator('tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => {
          const cell = (col: string): HTMLElement | null => tr.querySelector(`[data-col="${col}"]`);
          const text = (col: string): string => (cell(col)?.textContent ?? '').trim();
          return {
            round: Number(text('round')),
            sent: text('sent'),
            remaining: text('remaining'),
            dirty: text('dirty'),
            downtime: text('downtime'),
            sentBytes: Number(cell('sent')?.dataset.bytes),
            remainingBytes: Number(cell('remaining')?.dataset.bytes),
          };
        }),
      );

  beforeAll(async () => {
    if (unavailable) return;
    host = await startSshHost({ name: 'lab' });
    const sb = makeSandbox();
    // The guest to move, made and started with this computer's CLI.
    await ok(sb, ['create', 'web', '--demo', '--memory', '128']);
    await ok(sb, ['start', 'web'], { timeoutMs: GUEST_TIMEOUT });
    // And a stopped one, to move offline.
    await ok(sb, ['create', 'desk', '--demo', '--memory', '96']);
    uuid = (JSON.parse(await ok(sb, ['list', '--json'])) as Listed[]).find((m) => m.config.name === 'web')?.uuid ?? '';
    ({ served, browser, context, page } = await serveWithHost(host, sb));
  });

  afterAll(async () => {
    await stopRemoteLab({ browser, served, host }, ['web']);
  });

  it('adds the host lab from the Host menu; Migrate is offered for the running machine once it is connected', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    await expect.poll(() => row('web').getAttribute('aria-label'), { timeout: 30_000 }).toBe('web, Running');
    await row('web').click();
    // No remote host yet: nowhere to migrate to.
    expect(await toolbar().getByRole('button', { name: 'Migrate' }).isDisabled()).toBe(true);

    const add = await addHost(page, host);
    await add.getByTestId('host-key-question').waitFor({ timeout: 60_000 });
    await add.getByRole('button', { name: 'Trust and connect' }).click();
    await add.waitFor({ state: 'hidden', timeout: 60_000 });
    await expect.poll(() => hostRow(page).getAttribute('aria-label'), { timeout: 30_000 }).toMatch(/^Host lab, connected, /);

    await row('web').click();
    await expect.poll(() => toolbar().getByRole('button', { name: 'Migrate' }).isDisabled()).toBe(false);
  });

  it('the guest dirties its memory: a loop typed into its serial console', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    sourceConsole = await openSerial();
    // Something only this running guest's memory holds, to read back on the other host.
    await typeInSerial(sourceConsole, `echo ${marker} > /dev/shm/marker\n`);
    await typeInSerial(sourceConsole, 'while true; do dd if=/dev/urandom of=/dev/shm/x bs=1M count=16 2>/dev/null; done &\n');
    await typeInSerial(sourceConsole, 'echo loop-$!\n');
    await expect.poll(async () => (await serialLines(sourceConsole)).some((l) => /^loop-\d+$/.test(l)), { timeout: 30_000 }).toBe(true);
  });

  it('Machine › Migrate…: lab chosen, checked clean, 8 MiB/s; the pre-copy view shows the rounds as they come', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    await page.bringToFront();
    await row('web').click();
    await menu(page, 'Machine', 'Migrate…');
    await dialog().waitFor();
    expect((await dialog().locator('.migrate-host').textContent())?.trim()).toBe('lab');
    // The preflight runs on lab; Migrate waits for it.
    await dialog().getByTestId('migration-preflight').getByText('lab can take web').waitFor({ timeout: 60_000 });
    await dialog().getByLabel('Bandwidth limit (MiB/s)').fill('8');
    await dialog().getByLabel('Bandwidth limit (MiB/s)').press('Tab');
    await shot(page, 'migrate-options.png');
    const migrate = dialog().getByRole('button', { name: 'Migrate', exact: true });
    expect(await migrate.isDisabled()).toBe(false);
    await migrate.click();

    // The pre-copy view: the disks first, then one row per RAM round.
    const view = dialog().getByTestId('migration-view');
    await view.waitFor();
    await view
      .getByTestId('migration-disk-text')
      .getByText(/mirrored/)
      .waitFor({ timeout: 60_000 });
    const seen = new Map<number, ShownRound>();
    await expect
      .poll(
        async () => {
          for (const r of await shownRounds()) seen.set(r.round, r);
          return seen.size;
        },
        { timeout: MIGRATION_TIMEOUT, interval: 500 },
      )
      .toBeGreaterThanOrEqual(3);
    const rounds = [...seen.values()].sort((a, b) => a.round - b.round);
    // Round numbers in order, each round with figures of its own.
    expect(rounds.map((r) => r.round)).toEqual(rounds.map((_, i) => rounds[0]!.round + i));
    expect(new Set(rounds.map((r) => r.remainingBytes)).size).toBeGreaterThanOrEqual(2);
    expect(new Set(rounds.map((r) => r.sentBytes)).size).toBeGreaterThanOrEqual(2);
    for (const r of rounds) {
      expect(r.sent).toMatch(/^\d+(\.\d+)? (B|KiB|MiB|GiB)$/);
      expect(r.dirty).toMatch(/^[\d,]+\/s \(.+\/s\)$/);
      expect(r.downtime).toMatch(/^(—|\d+(\.\d+)? (ms|s))$/);
    }
    // Pages are dirtied all along: every round after the first has some to send again (the last row
    // seen may be a round that has only just begun, with nothing sent yet: it is left out).
    const done = rounds.slice(1, -1);
    expect(done.length).toBeGreaterThanOrEqual(1);
    expect(
      done.every((r) => r.sentBytes > 0),
      JSON.stringify(rounds),
    ).toBe(true);
    // The charts are drawn too (their figures are the table's).
    expect(await dialog().locator('.rounds-chart canvas').count()).toBe(2);
    expect(await dialog().getByRole('button', { name: 'Cancel migration' }).isDisabled()).toBe(false);

    // The loop dirties 16 MiB again and again, faster than 8 MiB/s carries it: not converging, said with its fixes.
    const hint = dialog().getByTestId('migration-not-converging');
    await hint.waitFor({ timeout: MIGRATION_TIMEOUT });
    const words = (await hint.textContent()) ?? '';
    expect(words).toMatch(/Raise the max downtime: QEMU expects .+, the limit is 300 ms\./);
    expect(words).toContain('Turn on auto-converge');
    expect(words).toContain('Raise the bandwidth limit (now 8 MiB/s)');
    await shot(page, 'migrate-precopy.png');
  });

  it('the loop stopped, the copy catches up: the figures of the end, and web runs under lab', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    await typeInSerial(sourceConsole, 'kill $!\n');
    // The hint lasts as long as the trouble.
    await dialog().getByTestId('migration-not-converging').waitFor({ state: 'hidden', timeout: MIGRATION_TIMEOUT });
    const summary = dialog().getByTestId('migration-summary');
    await summary.waitFor({ timeout: MIGRATION_TIMEOUT });
    const figure = (name: string): Promise<string> =>
      summary
        .locator(`[data-figure="${name}"]`)
        .textContent()
        .then((t) => (t ?? '').trim());
    expect(await figure('total')).toMatch(/^\d+(\.\d+)? s$|^\d+ min \d+ s$/);
    expect(await figure('downtime')).toMatch(/^\d+ ms$|^\d+(\.\d+)? s$/);
    expect(Number(await figure('rounds'))).toBeGreaterThanOrEqual(3);
    expect(await figure('bytes')).toMatch(/ (MiB|GiB)$/);
    expect(await figure('throughput')).toMatch(/\/s$/);
    await page.getByRole('button', { name: 'Show on lab' }).waitFor({ timeout: 30_000 });
    await shot(page, 'migrate.png');

    // Under lab now, running; gone from this computer.
    await expect.poll(() => row('web').getAttribute('data-host'), { timeout: 30_000 }).toBe('lab');
    await expect.poll(() => row('web').getAttribute('aria-label'), { timeout: 30_000 }).toBe('web, Running');
    expect(await row('web').count()).toBe(1);
    expect(remoteMachine(host, 'web')).toMatchObject({ uuid, status: { state: 'running' } });
    expect(fs.existsSync(path.join(served.sb.home, 'machines', 'web'))).toBe(false);
    await dialog().getByRole('button', { name: 'Close', exact: true }).click();
    await dialog().waitFor({ state: 'hidden' });
  });

  it('its serial console there answers, with the memory it had here', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    await row('web').click();
    const there = await openSerial('lab');
    await typeInSerial(there, 'echo $((6*7))\n');
    await expect.poll(() => serialLines(there), { timeout: 30_000 }).toContain('42');
    await typeInSerial(there, 'cat /dev/shm/marker\n');
    await expect.poll(() => serialLines(there), { timeout: 30_000 }).toContain(marker);
  });

  it('the task panel keeps the migration, its rounds a click away', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    await page.bringToFront();
    await page
      .getByRole('region', { name: 'Tasks' })
      .getByText(/^Tasks \(/)
      .click();
    await page.getByRole('button', { name: /^Rounds of Migrating / }).click();
    await dialog().getByTestId('migration-summary').waitFor();
    expect((await shownRounds()).length).toBeGreaterThanOrEqual(3);
    await dialog().getByRole('button', { name: 'Close', exact: true }).click();
  });

  it('a stopped machine migrates offline: its folder copied, then listed under lab, stopped', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    await row('desk').click();
    await toolbar().getByRole('button', { name: 'Migrate' }).click();
    const d = page.getByRole('dialog', { name: 'Migrate desk' });
    await d.getByTestId('migration-mode').getByText('Offline').waitFor();
    // The pre-copy's limits are a live migration's.
    expect(await d.getByLabel('Bandwidth limit (MiB/s)').count()).toBe(0);
    await d.getByTestId('migration-preflight').getByText('lab can take desk').waitFor({ timeout: 60_000 });
    await d.getByRole('button', { name: 'Migrate', exact: true }).click();
    const summary = d.getByTestId('migration-summary');
    await summary.waitFor({ timeout: MIGRATION_TIMEOUT });
    expect(await d.getByTestId('migration-disk-text').textContent()).toMatch(/ copied$/);
    expect(await summary.locator('[data-figure="downtime"]').count()).toBe(0);
    expect(await summary.locator('[data-figure="bytes"]').textContent()).toMatch(/ (KiB|MiB|GiB)$/);
    await shot(page, 'migrate-offline.png');
    await expect.poll(() => row('desk').getAttribute('data-host'), { timeout: 30_000 }).toBe('lab');
    await expect.poll(() => row('desk').getAttribute('aria-label'), { timeout: 30_000 }).toBe('desk, Powered off');
    expect(remoteMachine(host, 'desk')?.status.state).toBe('stopped');
    expect(fs.existsSync(path.join(served.sb.home, 'machines', 'desk'))).toBe(false);
    await d.getByRole('button', { name: 'Close', exact: true }).click();
    await d.waitFor({ state: 'hidden' });
  });

  it('logged no page errors', (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    expect(pageProblems(page)).toEqual([]);
  });
});
