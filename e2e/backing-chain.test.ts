// The wizard with a disk image that reads from a backing file (Chromium against `vmdesk serve`): the
// core refuses it until every file of the chain is confirmed; the wizard shows the chain, Cancel
// leaves nothing made and says why, "Use these files" creates the machine on the confirmed chain.
// A host file behind a json: name is refused outright, with no offer to confirm.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, listMachineDirs, ok, openUi, pageProblems, serve, type Served } from './harness.js';

const SHOTS = process.env.VMDESK_SCREENSHOTS;

describe('a disk image with a backing chain in the wizard', () => {
  let served: Served;
  let browser: Browser;
  let page: Page;
  let images: string;

  beforeAll(async () => {
    served = await serve();
    images = fs.mkdtempSync(path.join(served.sb.home, '..', 'vmdesk-chain-'));
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(images, 'base.qcow2'), '64M']);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', path.join(images, 'top.qcow2')]);
    const json = `json:${JSON.stringify({ driver: 'raw', file: { driver: 'file', filename: '/etc/passwd' } })}`;
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-u', '-b', json, '-F', 'raw', path.join(images, 'evil.qcow2'), '1M']);
    browser = await launchBrowser();
    ({ page } = await openUi(browser, served));
  }, 60_000);

  afterAll(async () => {
    await browser.close();
    await served.stop();
    await served.sb.cleanup();
    fs.rmSync(images, { recursive: true, force: true });
  });

  async function wizardWithDisk(name: string, image: string): Promise<Locator> {
    await page.getByRole('toolbar', { name: 'Machine actions' }).getByRole('button', { name: 'New' }).click();
    const wizard = page.getByRole('dialog', { name: 'New machine' });
    await wizard.waitFor();
    await wizard.getByLabel('Name').fill(name);
    await wizard.getByRole('button', { name: 'Next' }).click();
    await wizard.getByText('Existing disk image', { exact: true }).click();
    await wizard.getByLabel('Image file').fill(image);
    await wizard.getByText('Use in place', { exact: true }).click();
    await wizard.getByRole('button', { name: 'Next' }).click();
    await wizard.getByRole('button', { name: 'Next' }).click();
    await wizard.getByRole('button', { name: 'Create' }).click();
    return wizard;
  }

  it('shows the chain; Cancel makes nothing, "Use these files" makes the machine on it', async () => {
    const top = path.join(images, 'top.qcow2');
    const base = path.join(images, 'base.qcow2');
    let wizard = await wizardWithDisk('chained', top);
    const ask = page.getByRole('dialog', { name: 'Use this chain of images?' });
    await ask.waitFor();
    await expect(ask.innerText()).resolves.toContain(`1. ${base} (qcow2)`);
    if (SHOTS) {
      await page.waitForTimeout(500); // the box fades in
      await page.screenshot({ path: path.join(SHOTS, 'backing-chain.png') });
    }
    await ask.getByRole('button', { name: 'Cancel' }).click();
    await expect(wizard.getByText(/--trust-backing/).innerText()).resolves.toContain(base);
    expect(listMachineDirs(served.sb)).toEqual([]);

    await wizard.getByRole('button', { name: 'Create' }).click();
    await ask.waitFor();
    await ask.getByRole('button', { name: 'Use these files' }).click();
    await wizard.waitFor({ state: 'hidden', timeout: 60_000 });
    const shown = JSON.parse(await ok(served.sb, ['show', 'chained', '--json'])) as { config: { disks: Array<{ file: string }> } };
    expect(shown.config.disks.map((d) => d.file)).toEqual([top]);

    wizard = await wizardWithDisk('evil', path.join(images, 'evil.qcow2'));
    await expect(wizard.getByText(/json: description/).innerText()).resolves.toContain('refused');
    await expect(page.getByRole('dialog', { name: 'Use this chain of images?' }).isVisible()).resolves.toBe(false);
    await wizard.getByRole('button', { name: 'Cancel' }).click();
    expect(listMachineDirs(served.sb)).toEqual(['chained']);
    expect(pageProblems(page)).toEqual([]);
  });

  it('File › Import appliance asks the same before copying a chain in, then imports it flattened', async () => {
    await page.getByRole('menubar', { name: 'Menu bar' }).getByText('File', { exact: true }).click();
    await page.getByRole('menuitem', { name: 'Import appliance…', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Import appliance' });
    await dialog.getByLabel('File').fill(path.join(images, 'top.qcow2'));
    await dialog.getByLabel('Name').fill('flattened');
    await dialog.getByRole('button', { name: 'Import' }).click();
    const ask = page.getByRole('dialog', { name: 'Use this chain of images?' });
    await ask.waitFor();
    await expect(ask.innerText()).resolves.toContain(path.join(images, 'base.qcow2'));
    await ask.getByRole('button', { name: 'Use these files' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 60_000 });
    const shown = JSON.parse(await ok(served.sb, ['show', 'flattened', '--json'])) as {
      dir: string;
      config: { disks: Array<{ file: string }> };
    };
    const copy = path.join(shown.dir, shown.config.disks[0]?.file ?? '');
    // Copied in as one self-contained image: no backing file any more.
    expect(execFileSync('qemu-img', ['info', '-f', 'qcow2', '--output=json', copy], { encoding: 'utf8' })).not.toContain('backing');
    expect(pageProblems(page)).toEqual([]);
  });
});
