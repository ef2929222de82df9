// Machine › Back up… in Chromium against `vmdesk serve`: a stopped demo machine backed up twice from
// the dialog (full, then incremental after its disk changed), the points listed in the dialog and
// by the CLI, and a backup folder that does not exist refused in the dialog with why. A stopped
// encrypted machine's backup asks for its passphrase in the Unlock prompt: a wrong one is said there
// and writes nothing, the right one makes an encrypted point.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { axeBothThemes, describeFindings, severe } from './axe.js';
import { launchBrowser, openUi, ok, pageProblems, serve, type Served, stopServed } from './harness.js';

const NAME = 'backed up';
const SEALED = 'sealed';
const PASSPHRASE = `e2e-${Math.random().toString(36).slice(2)}-phrase`;

describe('Machine › Back up… in a browser', () => {
  let served: Served;
  let browser: Browser;
  let page: Page;
  let target = '';

  const dialog = (name = NAME): Locator => page.getByRole('dialog', { name: `Back up — ${name}` });
  const openDialog = async (name = NAME): Promise<void> => {
    await page.getByRole('option', { name: new RegExp(`^${name}, `) }).click();
    await page.getByRole('menubar', { name: 'Menu bar' }).getByText('Machine', { exact: true }).click();
    await page.getByRole('menuitem', { name: 'Back up…', exact: true }).click();
    await dialog(name).waitFor();
  };

  beforeAll(async () => {
    served = await serve();
    await ok(served.sb, ['create', NAME, '--demo', '--disk', '64M']);
    target = path.join(served.sb.home, 'usb');
    fs.mkdirSync(target);
    browser = await launchBrowser();
    // axe is injected into the page for the accessibility scan: the page's CSP would refuse it.
    ({ page } = await openUi(browser, served, { bypassCSP: true }));
  });

  afterAll(async () => {
    await stopServed(browser, served, [NAME, SEALED]);
  });

  it('refuses a folder that does not exist, then makes a full point and an incremental one', async () => {
    await openDialog();
    const d = dialog();
    await d.getByTestId('backup-points').getByText(`No backups of ${NAME} yet`).waitFor();
    await d.getByRole('textbox', { name: 'Backup folder' }).fill(path.join(served.sb.home, 'not-mounted'));
    await d.getByRole('button', { name: 'Back up', exact: true }).click();
    await d
      .getByRole('alert')
      .getByText(/does not exist \(is the disk mounted\?\)/)
      .waitFor();

    await d.getByRole('textbox', { name: 'Backup folder' }).fill(target);
    await d.getByText('Next point: Full: the first point of a chain in this folder').waitFor();
    await d.getByRole('button', { name: 'Back up', exact: true }).click();
    const outcome = d.getByTestId('backup-outcome');
    await outcome.getByText(/^Point 1: full/).waitFor({ timeout: 60_000 });
    const rows = d.getByTestId('backup-points').locator('.el-table__body tbody tr');
    await expect.poll(() => rows.count()).toBe(1);

    // The disk changes (through QEMU's block layer, as a guest's writes would): 1 MiB at 16 MiB.
    const shown = JSON.parse(await ok(served.sb, ['show', NAME, '--json'])) as { dir: string; config: { disks: Array<{ file: string }> } };
    const disk = path.resolve(shown.dir, shown.config.disks[0]?.file ?? '');
    expect(spawnSync('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x42 16M 1M', disk]).status).toBe(0);

    await d.getByText(/^Next point: Incremental: what changed since point 1/).waitFor();
    await d.getByRole('button', { name: 'Back up', exact: true }).click();
    await outcome.getByText(/^Point 2: /).waitFor({ timeout: 60_000 });
    // What changed (1 MiB and the image's metadata), not the disk.
    expect(await outcome.innerText()).toMatch(/^Point 2: incremental, 1\.\d+ MiB of 64 MiB$/);
    await expect.poll(() => rows.count()).toBe(2);
    await expect.poll(() => rows.nth(1).innerText()).toMatch(/2\s+incremental/);

    // The dialog, with its outcome and its points, is accessible in both themes (no critical or serious axe finding).
    await expect.poll(() => page.locator('.el-message').count(), { timeout: 10_000 }).toBe(0);
    if (process.env.VMDESK_SCREENSHOTS) {
      // Set VMDESK_SCREENSHOTS=docs/screenshots to refresh the README's picture.
      fs.mkdirSync(process.env.VMDESK_SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: path.join(process.env.VMDESK_SCREENSHOTS, 'backup.png') });
    }
    const found = severe(await axeBothThemes(page, 'backup dialog'));
    expect(found, describeFindings(found)).toEqual([]);

    const listed = JSON.parse(await ok(served.sb, ['backups', NAME, '--json'])) as { points: Array<{ kind: string }> };
    expect(listed.points.map((p) => p.kind)).toEqual(['full', 'incremental']);

    // Restore… on point 1 makes a new machine of it, named in a prompt: it holds point 1's data (not the later change).
    await d.getByRole('button', { name: 'Restore… (point 1)' }).click();
    const prompt = page.getByRole('dialog', { name: `Restore point 1 of ${NAME}` });
    const field = prompt.getByRole('textbox');
    expect(await field.inputValue()).toBe(`${NAME}-1`);
    await field.fill(`${NAME}-old`);
    await prompt.getByRole('button', { name: 'Restore', exact: true }).click();
    await page.getByText(`Point 1 restored as ${NAME}-old`).waitFor({ timeout: 60_000 });
    await page.getByRole('option', { name: new RegExp(`^${NAME}-old, `) }).waitFor();
    const restored = JSON.parse(await ok(served.sb, ['show', `${NAME}-old`, '--json'])) as {
      dir: string;
      config: { disks: Array<{ file: string }> };
    };
    const raw = path.join(served.sb.home, 'restored.raw');
    expect(
      spawnSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', path.resolve(restored.dir, restored.config.disks[0]?.file ?? ''), raw])
        .status,
    ).toBe(0);
    expect(fs.readFileSync(raw)[16 * 1024 * 1024]).toBe(0);
    fs.rmSync(raw);
    await d.getByRole('button', { name: 'Cancel', exact: true }).click();
    await dialog().waitFor({ state: 'hidden' });
    expect(pageProblems(page)).toEqual([]);
  });

  it('a stopped encrypted machine asks for its passphrase: a wrong one is said in the prompt and writes nothing, the right one makes an encrypted point', async () => {
    const keys = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-keys-'));
    const passFile = path.join(keys, 'pass');
    fs.writeFileSync(passFile, PASSPHRASE, { mode: 0o600 });
    try {
      await ok(served.sb, ['create', SEALED, '--demo', '--memory', '128', '--disk', '64M', '--encrypt', '--passphrase-file', passFile]);
    } finally {
      fs.rmSync(keys, { recursive: true, force: true });
    }
    const sealedTarget = path.join(served.sb.home, 'usb-sealed');
    fs.mkdirSync(sealedTarget);
    await openDialog(SEALED);
    const d = dialog(SEALED);
    await d.getByRole('textbox', { name: 'Backup folder' }).fill(sealedTarget);
    await d.getByRole('button', { name: 'Back up', exact: true }).click();

    const prompt = page.getByRole('dialog', { name: `Unlock ${SEALED}` });
    const field = prompt.getByPlaceholder('Passphrase');
    await field.waitFor();
    expect(await field.getAttribute('type')).toBe('password');
    await field.fill('not the passphrase');
    await prompt.getByRole('button', { name: 'Unlock' }).click();
    await prompt.getByText(`Wrong passphrase for ${SEALED}`).waitFor({ timeout: 60_000 });
    expect(fs.readdirSync(sealedTarget)).toEqual([]);

    await field.fill(PASSPHRASE);
    await prompt.getByRole('button', { name: 'Unlock' }).click();
    await d
      .getByTestId('backup-outcome')
      .getByText(/^Point 1: full/)
      .waitFor({ timeout: 60_000 });
    const rows = d.getByTestId('backup-points').locator('.el-table__body tbody tr');
    await expect.poll(() => rows.nth(0).innerText()).toMatch(/1\s+full, encrypted/);
    const listed = JSON.parse(await ok(served.sb, ['backups', SEALED, '--json'])) as {
      points: Array<{ kind: string; encrypted: boolean; disks: Array<{ file: string }> }>;
    };
    expect(listed.points.map((p) => [p.kind, p.encrypted])).toEqual([['full', true]]);
    const info = JSON.parse(
      spawnSync('qemu-img', ['info', '--output=json', listed.points[0]?.disks[0]?.file ?? ''], { encoding: 'utf8' }).stdout,
    ) as { encrypted?: boolean };
    expect(info.encrypted).toBe(true);
    await d.getByRole('button', { name: 'Cancel', exact: true }).click();
    await dialog(SEALED).waitFor({ state: 'hidden' });
    expect(pageProblems(page)).toEqual([]);
  }, 300_000);
});
