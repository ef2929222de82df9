// A guest paused because the host filesystem holding its disk is full, seen in the UI: the machine
// list, the details pane and the console window say why and what to do; Resume in the console
// window, once space is freed, runs the guest on and the reason goes. The library lives on a small
// ext4 loop mount the test makes (root only, as CI runs).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { IS_ROOT, demoBootMiB, fillFilesystem, loopMount, makeSandbox, needsRoot, type Sandbox } from '../src-main/integration/harness.js';
import { eventually, launchBrowser, ok, openUi, pageProblems, serve, type Served, stopServed } from './harness.js';

const NAME = 'full demo';
const MiB = 1024 * 1024;

interface Shown {
  uuid: string;
  status: { state: string; reason?: string };
}

describe('a guest paused by a full host filesystem, in a browser', () => {
  let sb: Sandbox;
  let mnt = '';
  let served: Served;
  let browser: Browser;
  let page: Page;
  let uuid = '';
  let reason = '';
  const ballast = (): string => path.join(mnt, 'ballast');
  const row = (): Locator => page.getByRole('option', { name: new RegExp(`^${NAME}, `) });
  const show = async (): Promise<Shown> => JSON.parse(await ok(served.sb, ['show', NAME, '--json'])) as Shown;

  beforeAll(async () => {
    sb = makeSandbox();
    if (!IS_ROOT) return;
    mnt = loopMount(sb, 'mnt', 64 + demoBootMiB());
    const lib = path.join(mnt, 'library');
    served = await serve({ ...sb, env: { ...sb.env, VMDESK_HOME: lib } });
    await ok(served.sb, ['create', NAME, '--demo']);
    reason = `The disk disk0 ran out of space on the host (${path.join(lib, 'machines', NAME, 'disks', 'disk0.qcow2')}: filesystem full). Free space on that filesystem, then Resume.`;
    browser = await launchBrowser();
    ({ page } = await openUi(browser, served));
  });

  afterAll(async () => {
    await stopServed(browser, served, [NAME]);
    if (mnt) spawnSync('umount', ['-l', mnt]);
    await sb.cleanup();
  });

  it('the list, the details and the console window say the disk is full and what to do', async (ctx) => {
    needsRoot(ctx, 'a small filesystem of its own: a loop mount');
    await ok(served.sb, ['start', NAME]);
    await ok(served.sb, ['wait', NAME, '--text', 'vmdesk-demo# ', '--timeout', '90']);
    uuid = (await show()).uuid;
    fs.writeFileSync(ballast(), Buffer.alloc(24 * MiB));
    fillFilesystem(mnt, 4 * MiB);
    await ok(served.sb, ['send', NAME, 'dd if=/dev/urandom of=/dev/vda bs=1M count=16 conv=fsync 2>/dev/null; echo dd-exit-$((0+$?))\\n']);
    const paused = await eventually(show, (m) => m.status.reason !== undefined, 120_000);
    expect(paused.status).toMatchObject({ state: 'paused', reason });

    await expect.poll(() => row().getAttribute('aria-label'), { timeout: 20_000 }).toBe(`${NAME}, Paused: ${reason}`);
    expect(await row().locator('.el-tag').getAttribute('title')).toBe(reason);
    await row().click();
    await expect.poll(() => page.getByTestId('pause-reason').textContent()).toContain(`Paused: ${reason}`);

    const consolePage = await page.context().newPage();
    await consolePage.goto(new URL(`/#/console/${uuid}`, served.origin).toString());
    await expect.poll(() => consolePage.getByTestId('machine-state').textContent(), { timeout: 20_000 }).toBe('Paused');
    expect(await consolePage.getByTestId('pause-reason').textContent()).toBe(reason);

    // Space freed, Resume from the console window: the guest finishes its write, the reason goes.
    fs.rmSync(ballast());
    await consolePage.getByRole('toolbar', { name: 'Machine controls' }).getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => consolePage.getByTestId('machine-state').textContent(), { timeout: 30_000 }).toBe('Running');
    expect(await consolePage.getByTestId('pause-reason').count()).toBe(0);
    await ok(served.sb, ['wait', NAME, '--text', 'dd-exit-0', '--timeout', '120']);
    await expect.poll(() => row().getAttribute('aria-label'), { timeout: 20_000 }).toBe(`${NAME}, Running`);
    expect(await page.getByTestId('pause-reason').count()).toBe(0);
    expect(await row().locator('.el-tag').getAttribute('title')).toBeNull();
    expect(pageProblems(page)).toEqual([]);
    expect(pageProblems(consolePage)).toEqual([]);
  });
});
