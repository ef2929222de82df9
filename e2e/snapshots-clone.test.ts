// Snapshots, clones, import and the media manager end to end: Chromium clicks through the UI served
// by `vmdesk serve`. No guest boots: the demo machine is snapshotted stopped (disks), cloned linked
// from the tree, an appliance the CLI exported is imported, and the media manager shows the chain.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchBrowser, listMachineDirs, openUi, ok, pageProblems, serve, type Served } from './harness.js';

const NAME = 'snap demo';
const CLONE = 'snap clone';
const IMPORTED = 'imported demo';
const SNAP = 'Clean install';
/** Set VMDESK_SCREENSHOTS=docs/screenshots to refresh the docs' pictures. */
const SHOTS = process.env.VMDESK_SCREENSHOTS;

async function shot(page: Page, file: string): Promise<void> {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, file) });
}

interface Listed {
  uuid: string;
  dir: string;
  config: { name: string; disks: { file: string }[] };
}

describe('snapshots, linked clone, import and media in a browser', () => {
  let served: Served;
  let browser: Browser;
  let page: Page;
  let ova = '';

  const row = (name: string): Locator => page.getByRole('option', { name: new RegExp(`^${name}, `) });
  const tree = (): Locator => page.getByRole('tree', { name: 'Snapshot tree' });
  const menu = async (title: string, item: string): Promise<void> => {
    await page.getByRole('menubar', { name: 'Menu bar' }).getByText(title, { exact: true }).click();
    await page.getByRole('menuitem', { name: item, exact: true }).click();
  };
  const list = async (): Promise<Listed[]> => JSON.parse(await ok(served.sb, ['list', '--json'])) as Listed[];

  beforeAll(async () => {
    served = await serve();
    await ok(served.sb, ['create', NAME, '--demo', '--disk', '64M']);
    ova = path.join(served.sb.home, 'exported.ova');
    await ok(served.sb, ['export', NAME, ova], { timeoutMs: 120_000 });
    browser = await launchBrowser();
    ({ page } = await openUi(browser, served));
  });

  afterAll(async () => {
    await browser?.close();
    if (served) {
      await ok(served.sb, ['stop', NAME, '--force']).catch(() => undefined);
      await served.stop();
    }
  });

  it('takes a snapshot of the stopped machine from the Snapshots tab; the tree shows it above "Current state"', async () => {
    await row(NAME).click();
    await page.getByRole('tab', { name: 'Snapshots' }).click();
    await tree().getByText('Current state').waitFor();
    await page.getByRole('toolbar', { name: 'Snapshot actions' }).getByRole('button', { name: 'Take…' }).click();
    const dialog = page.getByRole('dialog', { name: `Take snapshot of ${NAME}` });
    await dialog.waitFor();
    const name = dialog.getByLabel('Snapshot name');
    expect(await name.inputValue()).toBe('Snapshot 1');
    // Checked as typed, with the core's schema.
    await name.fill(' padded');
    await dialog.getByText('must not start or end with a space').first().waitFor();
    expect(await dialog.getByRole('button', { name: 'Take' }).isDisabled()).toBe(true);
    await name.fill(SNAP);
    await dialog.getByLabel('Description').fill('Fresh from the demo image');
    await dialog.getByRole('button', { name: 'Take' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 60_000 });
    await tree().getByText(SNAP).waitFor();
    // "Current state" hangs under the snapshot.
    const snapItem = tree()
      .getByRole('treeitem', { name: new RegExp(SNAP) })
      .first();
    await snapItem.getByRole('treeitem', { name: /Current state/ }).waitFor();
    await expect.poll(() => snapItem.textContent()).toMatch(/Disk/);
    const listed = JSON.parse(await ok(served.sb, ['snapshot', NAME, 'list', '--json'])) as { roots: { name: string; kind: string }[] };
    expect(listed.roots.map((s) => [s.name, s.kind])).toEqual([[SNAP, 'disk']]);
    await tree().getByText(SNAP).click();
    await page.getByRole('table').or(page.locator('.snapshot-details')).getByText('Fresh from the demo image').first().waitFor();
    await page.locator('.el-message').first().waitFor({ state: 'detached', timeout: 15_000 });
    await tree().getByText(SNAP).hover();
    await page.getByRole('tooltip').getByText('Fresh from the demo image').waitFor();
    await shot(page, 'snapshots.png');
  });

  it('clones it linked with "Clone from here" in the tree’s context menu; the clone appears in the list', async () => {
    await tree().getByText(SNAP).click({ button: 'right' });
    await page.getByRole('menuitem', { name: 'Clone from here…' }).click();
    const dialog = page.getByRole('dialog', { name: `Clone ${NAME}` });
    await dialog.waitFor();
    expect(await dialog.getByLabel('New name').inputValue()).toBe(`${NAME} Clone`);
    await dialog.getByLabel('New name').fill(NAME);
    await dialog.getByText(`A machine named "${NAME}" already exists`).first().waitFor();
    await dialog.getByLabel('New name').fill(CLONE);
    await dialog.getByRole('radio', { name: 'Linked clone' }).check({ force: true });
    await dialog.getByText('constant time').waitFor();
    await dialog.getByText('new MAC addresses').waitFor();
    await shot(page, 'clone.png');
    await dialog.getByRole('button', { name: 'Clone', exact: true }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 60_000 });
    await row(CLONE).waitFor();
    const clone = (await list()).find((m) => m.config.name === CLONE);
    expect(clone).toBeDefined();
    const disk = clone!.config.disks[0]!.file;
    const info = JSON.parse(await ok(served.sb, ['media', '--json'])) as { file: string; backingFile: string | null }[];
    const own = info.find((m) => m.file === path.resolve(clone!.dir, disk));
    expect(own?.backingFile).toContain(`${NAME}`);
  });

  it('refuses to delete the snapshot the linked clone rests on, naming the clone', async () => {
    await row(NAME).click();
    await page.getByRole('tab', { name: 'Snapshots' }).click();
    await tree().getByText(SNAP).click();
    await page.getByRole('toolbar', { name: 'Snapshot actions' }).getByRole('button', { name: 'Delete' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete snapshot' });
    await confirm.getByRole('button', { name: 'Delete' }).click();
    const failed = page.getByRole('dialog', { name: /failed/ });
    await failed.getByText(`"${CLONE}"`).waitFor({ timeout: 60_000 });
    await failed.getByRole('button', { name: 'OK' }).click();
    await tree().getByText(SNAP).waitFor();
  });

  it('restores the snapshot after taking one of the current state first, as offered', async () => {
    await tree().getByText(SNAP).click({ button: 'right' });
    await page.getByRole('menuitem', { name: 'Restore…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Restore snapshot' });
    await dialog.getByText('The changes made since are lost').waitFor();
    expect(await dialog.getByRole('checkbox', { name: 'Take a snapshot of the current state first' }).isChecked()).toBe(true);
    expect(await dialog.getByLabel('Name of the snapshot taken first').inputValue()).toBe('Snapshot 1');
    await dialog.getByRole('button', { name: 'Restore' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 60_000 });
    await tree().getByText('Snapshot 1').waitFor();
    const listed = JSON.parse(await ok(served.sb, ['snapshot', NAME, 'list', '--json'])) as {
      currentId: string;
      roots: { id: string; name: string; children: { name: string }[] }[];
    };
    expect(listed.currentId).toBe(listed.roots[0]!.id);
    expect(listed.roots[0]!.children.map((c) => c.name)).toEqual(['Snapshot 1']);
    // "Current state" is back directly under the restored snapshot, beside the one just taken.
    const snapItem = tree()
      .getByRole('treeitem', { name: new RegExp(SNAP) })
      .first();
    await expect
      .poll(() => snapItem.locator(':scope > .el-tree-node__children > [role=treeitem]').allTextContents())
      .toEqual([expect.stringContaining('Snapshot 1'), expect.stringContaining('Current state')]);
  });

  it('adds, resizes and removes a disk in Settings › Storage', async () => {
    await page.getByRole('toolbar', { name: 'Machine actions' }).getByRole('button', { name: 'Settings' }).click();
    const settings = page.getByRole('dialog', { name: /^Settings/ });
    await settings.getByRole('tab', { name: 'Storage' }).click();
    const disks = settings.getByRole('table').filter({ hasText: 'disk0' }).last();
    await settings.getByLabel('Size of the new disk').fill('32M');
    await settings.getByRole('button', { name: 'Add disk' }).click();
    await disks.getByText('disk1', { exact: true }).waitFor({ timeout: 30_000 });
    await shot(page, 'storage.png');
    await settings.getByRole('button', { name: 'Resize disk1' }).click();
    const prompt = page.getByRole('dialog', { name: 'Resize disk1' });
    await prompt.getByRole('textbox').fill('48M');
    await prompt.getByRole('button', { name: 'Resize' }).click();
    await page.getByText('from 32 MiB to 48 MiB').waitFor({ timeout: 30_000 });
    await settings.getByRole('button', { name: 'Remove disk1' }).click();
    const remove = page.getByRole('dialog', { name: 'Remove disk1' });
    await remove.getByText('Also delete the image file').click();
    await remove.getByRole('button', { name: 'Remove and delete' }).click();
    await disks.getByText('disk1', { exact: true }).waitFor({ state: 'detached', timeout: 30_000 });
    const shown = JSON.parse(await ok(served.sb, ['show', NAME, '--json'])) as Listed;
    expect(shown.config.disks).toHaveLength(1);
    await settings.getByRole('button', { name: 'Cancel' }).click();
    await settings.waitFor({ state: 'hidden' });
  });

  it('imports the appliance the CLI exported', async () => {
    await menu('File', 'Import appliance…');
    const dialog = page.getByRole('dialog', { name: 'Import appliance' });
    await dialog.getByLabel('File').fill('relative.ova');
    await dialog.getByText('must be absolute').first().waitFor();
    await dialog.getByLabel('File').fill(ova);
    await dialog.getByLabel('Name').fill(IMPORTED);
    await dialog.getByRole('button', { name: 'Import' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 120_000 });
    await row(IMPORTED).waitFor();
    expect((await list()).map((m) => m.config.name).sort()).toEqual([IMPORTED, CLONE, NAME].sort());
  });

  it('shows every image in the media manager, the clone’s under the snapshot’s', async () => {
    await menu('File', 'Virtual media manager…');
    const dialog = page.getByRole('dialog', { name: 'Virtual media manager' });
    const table = dialog.getByRole('table').last();
    await expect.poll(() => dialog.textContent(), { timeout: 30_000 }).toContain(`${CLONE} (disk0)`);
    const text = (await dialog.textContent()) ?? '';
    expect(text).toContain(`${IMPORTED} (disk0)`);
    expect(text).toContain(`${NAME} (disk0)`);
    expect(text).toMatch(/64 MiB/);
    // Nested rows: el-table indents children of the tree.
    expect(await table.locator('.el-table__row--level-1, .el-table__row--level-2').count()).toBeGreaterThan(0);
    await shot(page, 'media-manager.png');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(listMachineDirs(served.sb)).toHaveLength(3);
  });

  it('takes a live snapshot of the running machine, saves its state and discards it (the one guest this file boots)', async () => {
    await ok(served.sb, ['start', NAME], { timeoutMs: 120_000 });
    await row(NAME).click();
    await expect.poll(() => row(NAME).getAttribute('aria-label'), { timeout: 120_000 }).toBe(`${NAME}, Running`);
    await page.getByRole('tab', { name: 'Snapshots' }).click();
    await page.getByRole('toolbar', { name: 'Snapshot actions' }).getByRole('button', { name: 'Take…' }).click();
    const dialog = page.getByRole('dialog', { name: `Take snapshot of ${NAME}` });
    await dialog.getByText('its memory is saved too').waitFor();
    await dialog.getByLabel('Snapshot name').fill('Running');
    await dialog.getByRole('button', { name: 'Take' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 120_000 });
    const live = tree()
      .getByRole('treeitem', { name: /^Running/ })
      .first();
    await expect.poll(() => live.textContent(), { timeout: 30_000 }).toMatch(/Live/);
    expect(JSON.parse(await ok(served.sb, ['show', NAME, '--json'])).status.state).toBe('running');

    await menu('Machine', 'Save state');
    await expect.poll(() => row(NAME).getAttribute('aria-label'), { timeout: 120_000 }).toBe(`${NAME}, Saved`);
    await page.getByText('The machine has a saved state').waitFor();
    await menu('Machine', 'Discard saved state…');
    await page.getByRole('dialog', { name: 'Discard saved state' }).getByRole('button', { name: 'Discard' }).click();
    await expect.poll(() => row(NAME).getAttribute('aria-label'), { timeout: 30_000 }).toBe(`${NAME}, Powered off`);
    expect(JSON.parse(await ok(served.sb, ['show', NAME, '--json'])).savedState ?? false).toBe(false);
  });

  it('logged no page errors', () => {
    expect(pageProblems(page)).toEqual([]);
  });
});
