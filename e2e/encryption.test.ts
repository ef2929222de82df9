// An encrypted machine made in the New machine wizard and started from the UI served by `vmdesk
// serve`, in Chromium: the wizard refuses two different passphrases, Start opens a password prompt, a wrong passphrase is said in it (the prompt stays, nothing runs), the right one
// starts the demo guest, whose shell prompt the console window's Serial tab then shows. 128 MiB.
// Powered off, a snapshot taken from the Machine menu asks for the passphrase the same way (a stopped
// machine's new overlay is written by qemu-img, which needs the key): refused when wrong, taken and
// encrypted when right.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { DEMO_PROMPT } from '../src-main/core/demo/demo-guest.js';
import { launchBrowser, ok, openUi, pageProblems, serve, type Served, stopServed } from './harness.js';
import { menu } from './remote-lab.js';

const NAME = 'vault';
const PASSPHRASE = `e2e-${Math.random().toString(36).slice(2)}-phrase`;
const GUEST_TIMEOUT = 120_000;

describe('starting an encrypted machine through the passphrase prompt', () => {
  let served: Served;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  const row = (): Locator => page.getByRole('option', { name: new RegExp(`^${NAME}, `) });

  beforeAll(async () => {
    served = await serve();
    browser = await launchBrowser();
    ({ context, page } = await openUi(browser, served));
  });

  afterAll(async () => {
    await stopServed(browser, served, [NAME]);
  });

  it('the wizard makes the demo guest with an encrypted disk, its passphrase typed twice the same', async () => {
    await page.getByRole('toolbar', { name: 'Machine actions' }).getByRole('button', { name: 'New' }).click();
    const wizard = page.getByRole('dialog', { name: 'New machine' });
    await wizard.waitFor();
    await wizard.getByLabel('Name').fill(NAME);
    await wizard.getByRole('button', { name: 'Next' }).click();
    await wizard.getByRole('radio', { name: /Demo guest/ }).check();
    await wizard.getByRole('button', { name: 'Next' }).click();
    await wizard.getByLabel('Memory (MiB)').fill('128');
    await wizard.getByText('Encrypt the disk (qcow2 LUKS)').click();
    await wizard.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
    await wizard.getByLabel('Passphrase again').fill(`${PASSPHRASE}x`);
    await wizard.getByLabel('Passphrase again').press('Tab');
    await wizard.getByText('The two passphrases differ').waitFor();
    expect(await wizard.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
    await wizard.getByLabel('Passphrase again').fill(PASSPHRASE);
    await wizard.getByRole('button', { name: 'Next' }).click();
    await wizard.getByText('encrypted (passphrase asked at each start)').waitFor();
    await wizard.getByRole('button', { name: 'Create' }).click();
    await wizard.waitFor({ state: 'hidden', timeout: GUEST_TIMEOUT });
    await row().waitFor({ timeout: GUEST_TIMEOUT });
    const shown = JSON.parse(await ok(served.sb, ['show', NAME, '--json'])) as {
      dir: string;
      config: { disks: Array<{ encrypted?: boolean }> };
    };
    expect(shown.config.disks.map((d) => d.encrypted)).toEqual([true]);
    expect(fs.readFileSync(path.join(shown.dir, 'machine.json'), 'utf8')).not.toContain(PASSPHRASE);
  }, 300_000);

  it('asks for the passphrase, refuses a wrong one in the prompt, starts with the right one; the Serial tab shows the guest prompt', async () => {
    await row().click();
    await page.getByRole('toolbar', { name: 'Machine actions' }).getByRole('button', { name: 'Start' }).click();
    const prompt = page.getByRole('dialog', { name: `Start ${NAME}` });
    await prompt.getByText('disks are encrypted').waitFor();
    const field = prompt.getByPlaceholder('Passphrase');
    expect(await field.getAttribute('type')).toBe('password');

    await field.fill('not the passphrase');
    await prompt.getByRole('button', { name: 'Start' }).click();
    await prompt.getByText(`Wrong passphrase for ${NAME}`).waitFor({ timeout: GUEST_TIMEOUT });
    expect(await row().getAttribute('aria-label')).toBe(`${NAME}, Powered off`);

    await field.fill(PASSPHRASE);
    await prompt.getByRole('button', { name: 'Start' }).click();
    await prompt.waitFor({ state: 'hidden', timeout: GUEST_TIMEOUT });
    await expect.poll(() => row().getAttribute('aria-label'), { timeout: GUEST_TIMEOUT }).toBe(`${NAME}, Running`);

    const [consolePage] = await Promise.all([
      context.waitForEvent('page'),
      page.getByRole('toolbar', { name: 'Machine actions' }).getByRole('button', { name: 'Console' }).click(),
    ]);
    await consolePage.getByRole('tab', { name: 'Serial' }).click();
    const serialText = async (): Promise<string> =>
      (await consolePage.locator('[data-testid="serial-console"] .xterm-rows').textContent()) ?? '';
    await expect.poll(serialText, { timeout: GUEST_TIMEOUT }).toContain(DEMO_PROMPT.trim());
    await consolePage.close();
    expect(pageProblems(page)).toEqual([]);
  }, 400_000);

  it('powered off, Take snapshot asks for the passphrase: a wrong one is said in the prompt and takes nothing, the right one takes it encrypted', async () => {
    await ok(served.sb, ['stop', NAME, '--force']);
    await expect.poll(() => row().getAttribute('aria-label'), { timeout: GUEST_TIMEOUT }).toBe(`${NAME}, Powered off`);
    const snapshots = async (): Promise<string[]> =>
      (JSON.parse(await ok(served.sb, ['snapshot', NAME, 'list', '--json'])) as { roots: { name: string }[] }).roots.map((r) => r.name);
    await row().click();
    await menu(page, 'Machine', 'Take snapshot…');
    const take = page.getByRole('dialog', { name: `Take snapshot of ${NAME}` });
    await take.getByLabel('Snapshot name').fill('Cold');
    await take.getByRole('button', { name: 'Take', exact: true }).click();

    const prompt = page.getByRole('dialog', { name: `Unlock ${NAME}` });
    await prompt.getByText('it is not running').waitFor();
    const field = prompt.getByPlaceholder('Passphrase');
    expect(await field.getAttribute('type')).toBe('password');
    await field.fill('not the passphrase');
    await prompt.getByRole('button', { name: 'Unlock' }).click();
    await prompt.getByText(`Wrong passphrase for ${NAME}`).waitFor({ timeout: GUEST_TIMEOUT });
    expect(await snapshots()).toEqual([]);

    await field.fill(PASSPHRASE);
    await prompt.getByRole('button', { name: 'Unlock' }).click();
    await take.waitFor({ state: 'hidden', timeout: GUEST_TIMEOUT });
    await page.getByRole('tree', { name: 'Snapshot tree' }).getByText('Cold').waitFor();
    expect(await snapshots()).toEqual(['Cold']);
    // The disk now writes to the snapshot's new overlay, which has a LUKS header of its own.
    const shown = JSON.parse(await ok(served.sb, ['show', NAME, '--json'])) as { dir: string; config: { disks: Array<{ file: string }> } };
    const overlay = path.resolve(shown.dir, shown.config.disks[0]?.file ?? '');
    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', '-U', overlay], { encoding: 'utf8' })) as {
      encrypted?: boolean;
    };
    expect(info.encrypted).toBe(true);
    expect(pageProblems(page)).toEqual([]);
  }, 300_000);

  it('powered off, deleting a snapshot asks for the passphrase too, and deletes it with the right one', async () => {
    const tree = page.getByRole('tree', { name: 'Snapshot tree' });
    await tree.getByText('Cold').click();
    await page.getByRole('toolbar', { name: 'Snapshot actions' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog', { name: 'Delete snapshot' }).getByRole('button', { name: 'Delete' }).click();
    const prompt = page.getByRole('dialog', { name: `Unlock ${NAME}` });
    const field = prompt.getByPlaceholder('Passphrase');
    await field.fill('not the passphrase');
    await prompt.getByRole('button', { name: 'Unlock' }).click();
    await prompt.getByText(`Wrong passphrase for ${NAME}`).waitFor({ timeout: GUEST_TIMEOUT });
    const snapshots = async (): Promise<string[]> =>
      (JSON.parse(await ok(served.sb, ['snapshot', NAME, 'list', '--json'])) as { roots: { name: string }[] }).roots.map((r) => r.name);
    expect(await snapshots()).toEqual(['Cold']);
    await field.fill(PASSPHRASE);
    await prompt.getByRole('button', { name: 'Unlock' }).click();
    await prompt.waitFor({ state: 'hidden', timeout: GUEST_TIMEOUT });
    await expect.poll(snapshots, { timeout: GUEST_TIMEOUT }).toEqual([]);
    expect(pageProblems(page)).toEqual([]);
  }, 120_000);
});
