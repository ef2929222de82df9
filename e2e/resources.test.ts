// Resource management end to end: Chromium on the UI served by `vmdesk serve`, a running 512 MiB demo
// guest (TCG). Its Performance tab's CPU chart rises while a busy loop typed into the guest runs and
// falls once it is killed; its minimum memory is lowered in Settings › System and its memory target
// set from its details, and the guest's own MemTotal shows it; the host's Resources view shows the
// live charts, page sharing, the memory policy with the machine in its table, and CPU control.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { DEMO_PROMPT } from '../src-main/core/demo/demo-guest.js';
import { guestSays, makeSandbox, type Sandbox } from '../src-main/integration/harness.js';
import { launchBrowser, ok, openUi, pageProblems, serve, type Served, stopServed } from './harness.js';

/** Set VMDESK_SCREENSHOTS=docs/screenshots to refresh the docs' pictures. */
const SHOTS = process.env.VMDESK_SCREENSHOTS;
const GUEST_TIMEOUT = 120_000;
const NAME = 'perf';

async function shot(page: Page, file: string): Promise<void> {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.mouse.move(1270, 790);
  await page.waitForTimeout(600);
  await page
    .locator('.el-message, .el-notification')
    .evaluateAll((els) => els.forEach((e) => ((e as HTMLElement).style.visibility = 'hidden')));
  await page.screenshot({ path: path.join(SHOTS, file) });
}

describe('resources from the UI: performance graphs, memory target, host resources', () => {
  let sb: Sandbox;
  let served: Served;
  let browser: Browser;
  let page: Page;
  let uuid = '';

  const row = (): Locator => page.getByRole('option', { name: new RegExp(`^${NAME}, `) });
  const cpuChart = (): Locator => page.getByTestId('perf-cpu');
  /** The newest CPU figure the Performance tab shows (percent of one host CPU), or NaN before one. */
  const shownCpu = async (): Promise<number> => {
    const v = await cpuChart().getAttribute('data-latest-cpu');
    return v === null || v === '' ? Number.NaN : Number(v);
  };
  /** QEMU's user + system CPU time in clock ticks (USER_HZ, 100 a second), straight from /proc. */
  const qemuCpuTicks = (): number => {
    const pid = fs.readFileSync(path.join(sb.runtime, uuid, 'qemu.pid'), 'utf8').trim();
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime are fields 14 and 15 of stat; after "pid (comm) " they are the 12th and 13th.
    return Number(fields[11]) + Number(fields[12]);
  };
  const guestMemTotalMiB = async (): Promise<number> => {
    const line = await guestSays(sb, NAME, 'grep MemTotal /proc/meminfo', /MemTotal:\s+\d+ kB/, 30);
    return Math.round(Number(/\d+/.exec(line)?.[0]) / 1024);
  };

  beforeAll(async () => {
    sb = makeSandbox();
    await ok(sb, ['create', NAME, '--demo', '--memory', '512', '--cpus', '1']);
    uuid = (JSON.parse(await ok(sb, ['show', NAME, '--json'])) as { uuid: string }).uuid;
    await ok(sb, ['start', NAME], { timeoutMs: GUEST_TIMEOUT });
    await ok(sb, ['wait', NAME, '--text', DEMO_PROMPT, '--timeout', '110'], { timeoutMs: GUEST_TIMEOUT });
    served = await serve(sb);
    browser = await launchBrowser();
    ({ page } = await openUi(browser, served));
  });

  afterAll(async () => {
    await stopServed(browser, served, [NAME]);
    await sb?.cleanup();
  });

  it("the Performance tab's CPU graph rises while the guest runs a busy loop and falls when it stops", async () => {
    await row().click();
    await page.getByRole('tab', { name: 'Performance' }).click();
    // A few samples of the idle guest first.
    await expect.poll(async () => Number(await cpuChart().getAttribute('data-samples')), { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
    await expect.poll(shownCpu, { timeout: 60_000, interval: 1000 }).toBeLessThanOrEqual(30);
    await ok(sb, ['send', NAME, 'while :; do :; done &\\n']);
    await expect.poll(shownCpu, { timeout: 60_000, interval: 1000 }).toBeGreaterThanOrEqual(60);
    // While it runs, the figures agree with QEMU's own CPU time read from /proc over the same 10 s
    // (what the guest gets depends on the host's other load; the figure must say what it got).
    const before = qemuCpuTicks();
    const began = Date.now();
    await page.waitForTimeout(10_000);
    const measured = ((qemuCpuTicks() - before) / 100 / ((Date.now() - began) / 1000)) * 100;
    // The tab's samples lag by up to one poll and one tick: let them catch up.
    await page.waitForTimeout(2500);
    const recent = Number(await cpuChart().getAttribute('data-recent-cpu'));
    expect(Math.abs(recent - measured), `shown ${recent} %, /proc says ${measured.toFixed(1)} %`).toBeLessThanOrEqual(20);
    await ok(sb, ['send', NAME, 'kill $!\\n']);
    await expect.poll(shownCpu, { timeout: 60_000, interval: 1000 }).toBeLessThanOrEqual(30);
    // The chart drew it: the figure in words matches, memory and disk charts are there, NAT is explained.
    await expect.poll(() => cpuChart().locator('figcaption').textContent()).toMatch(/CPU: \d+(\.\d)? %/);
    await expect.poll(() => page.getByTestId('perf-memory').locator('figcaption').textContent()).toMatch(/Balloon actual: 512 MiB/);
    expect(await page.getByTestId('perf-disk').locator('canvas').count()).toBe(1);
    expect(await page.getByTestId('perf-network').textContent()).toMatch(/NAT/);
    await page.waitForTimeout(4000);
    await shot(page, 'performance.png');
  });

  it('sets the memory target from the UI (minimum lowered in Settings › System first): the guest’s MemTotal falls', async () => {
    const before = await guestMemTotalMiB();
    expect(before).toBeGreaterThan(400);

    await page.getByRole('toolbar', { name: 'Machine actions' }).getByRole('button', { name: 'Settings' }).click();
    const dialog = page.getByRole('dialog', { name: /^Settings — perf/ });
    await dialog.waitFor();
    await dialog.getByRole('tab', { name: 'System' }).click();
    await dialog.getByLabel('Automatic minimum memory').uncheck();
    const minimum = dialog.getByLabel('Minimum memory (MiB)');
    await minimum.fill('600');
    await minimum.press('Tab');
    // The input clamps to the machine's memory; the text field is checked with the core's rules.
    await expect.poll(() => minimum.inputValue()).toBe('512');
    await minimum.fill('192');
    await minimum.press('Tab');
    await dialog.getByLabel('vCPU pinning (vCPU:host CPU pairs)').fill('0:99');
    const cpus = os.cpus().length;
    await expect
      .poll(() => dialog.locator('.el-form-item__error').allTextContents())
      .toContain(`Host CPU 99 does not exist: this host has ${cpus} CPU${cpus === 1 ? '' : 's'} (0–${cpus - 1})`);
    expect(await dialog.getByRole('button', { name: 'Save' }).isDisabled()).toBe(true);
    await dialog.getByTestId('settings-processor').scrollIntoViewIfNeeded();
    await shot(page, 'settings-resources.png');
    await dialog.getByLabel('vCPU pinning (vCPU:host CPU pairs)').fill('');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 30_000 });
    const shown = JSON.parse(await ok(sb, ['show', NAME, '--json'])) as { config: { resources: { memoryMinMiB?: number } } };
    expect(shown.config.resources.memoryMinMiB).toBe(192);

    await page.getByRole('tab', { name: 'Details' }).click();
    const block = page.getByTestId('memory-block');
    await expect.poll(() => block.getByTestId('memory-actual').getAttribute('data-mib'), { timeout: 30_000 }).toBe('512');
    await expect.poll(() => block.textContent()).toContain('from 192 (minimum) to 512');
    const target = block.getByLabel('Memory target (MiB)');
    await target.fill('256');
    await target.press('Tab');
    await block.getByRole('button', { name: 'Set memory' }).click();
    await expect.poll(() => block.getByTestId('memory-target').getAttribute('data-mib'), { timeout: 30_000 }).toBe('256');
    await expect
      .poll(async () => Number(await block.getByTestId('memory-actual').getAttribute('data-mib')), { timeout: 60_000, interval: 1000 })
      .toBeLessThanOrEqual(260);
    await expect.poll(() => block.textContent()).toContain('(by you)');
    await block.scrollIntoViewIfNeeded();
    await shot(page, 'machine-memory.png');

    const after = await guestMemTotalMiB();
    expect(after).toBeLessThanOrEqual(260);
    expect(before - after).toBeGreaterThanOrEqual(200);
  });

  it("shows the host's Resources: live charts, page sharing, the memory policy with the machine, CPU control", async () => {
    await page.getByRole('option', { name: /^Host This computer, / }).click();
    const resources = page.getByTestId('host-resources');
    await resources.waitFor({ timeout: 30_000 });
    // Live figures arrive: the host CPU in words.
    await expect
      .poll(() => resources.getByTestId('host-charts').locator('figcaption').first().textContent(), { timeout: 30_000 })
      .toMatch(/CPU: \d/);
    const overcommit = resources.getByTestId('host-charts').locator('figcaption').filter({ hasText: 'Overcommit' });
    await expect.poll(() => overcommit.textContent(), { timeout: 30_000 }).toMatch(/Machines \/ host memory: 0\.0\d ×/);
    // Page sharing and the policy: their figures, or their error said in words (never a blank card).
    const ksm = resources.getByTestId('ksm-card');
    await expect.poll(() => ksm.textContent(), { timeout: 30_000 }).toMatch(/Memory saved|Page sharing on This computer: .+ \([A-Z_]+\)/);
    const policy = resources.getByTestId('policy-card');
    await expect.poll(() => policy.textContent(), { timeout: 30_000 }).toMatch(/Host memory used: \d+ %/);
    await expect.poll(() => policy.locator('.el-table__body').textContent()).toContain(NAME);
    await expect
      .poll(() => resources.getByTestId('cpu-control').textContent(), { timeout: 30_000 })
      .toMatch(/cgroup v\d|Unavailable|Cannot tell/);
    await page.setViewportSize({ width: 1280, height: 1300 });
    await page
      .locator('.main-details')
      .evaluate((el) => el.scrollTo(0, (el.querySelector('[data-testid="host-resources"]') as HTMLElement).offsetTop - 60));
    await page.waitForTimeout(2500);
    await shot(page, 'host-resources.png');
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(pageProblems(page)).toEqual([]);
  });
});
