// Snapshots, clones, import and the media manager end to end: Chromium clicks through the UI served
// by `vmdesk serve`. The demo machine is snapshotted stopped (disks), cloned linked from the tree, an
// appliance the CLI exported is imported, and the media manager shows the chain; then the one guest of
// this file boots for the clone dialog of a running machine and a live snapshot.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchBrowser, listMachineDirs, openUi, ok, pageProblems, serve, type Served, stopServed } from './harness.js';

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

/** Screenshots looked at by hand while the clone dialog's layout was fixed; in the temp folder, always. */
async function look(page: Page, file: string): Promise<void> {
  await page.screenshot({ path: path.join(os.tmpdir(), file) });
}

type Box = NonNullable<Awaited<ReturnType<Locator['boundingBox']>>>;

async function box(l: Locator): Promise<Box> {
  const b = await l.boundingBox();
  if (!b) throw new Error(`${l.toString()} is not shown`);
  return b;
}

const inside = (inner: Box, outer: Box): boolean =>
  inner.x >= outer.x - 0.5 &&
  inner.y >= outer.y - 0.5 &&
  inner.x + inner.width <= outer.x + outer.width + 0.5 &&
  inner.y + inner.height <= outer.y + outer.height + 0.5;

/** More than a rounding pixel in common. */
const overlap = (a: Box, b: Box): boolean =>
  a.x < b.x + b.width - 0.5 && b.x < a.x + a.width - 0.5 && a.y < b.y + b.height - 0.5 && b.y < a.y + a.height - 0.5;

/** The clone dialog's "Clone from" select: its text is what it shows (its placeholder when nothing is selected). */
const cloneFrom = (dialog: Locator): Locator =>
  dialog.locator('.el-select').filter({ has: dialog.page().getByRole('combobox', { name: 'Clone from' }) });

/**
 * The clone dialog is laid out as read: the footer's hint shown in full inside the dialog, the
 * explanation and any note inside it too, and no field error drawn over another field or the text.
 */
async function expectReadable(dialog: Locator): Promise<void> {
  const frame = await box(dialog.locator('.el-dialog'));
  const hint = dialog.locator('.footer-hint');
  expect(await hint.evaluate((e) => e.scrollWidth <= e.clientWidth && e.scrollHeight <= e.clientHeight)).toBe(true);
  const shown = [hint, dialog.locator('.form-hint'), ...(await dialog.locator('.field-note').all())];
  for (const l of shown) if ((await l.innerText()) !== '') expect(inside(await box(l), frame), l.toString()).toBe(true);
  const others = [
    ...(await dialog.locator('.el-form-item__content > :not(.el-form-item__error)').filter({ visible: true }).all()),
    dialog.locator('.form-hint'),
  ];
  for (const error of await dialog.locator('.el-form-item__error').all()) {
    for (const other of others)
      expect(overlap(await box(error), await box(other)), `${await error.innerText()} over ${other.toString()}`).toBe(false);
  }
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
    await stopServed(browser, served, [NAME]);
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
    await look(page, 'vmdesk-take-snapshot-name-error.png'); // the footer shared with the clone dialog
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

  it('Machine › Clone on the stopped machine: from "Current state", a full clone; a long name error is read in full, over nothing', async () => {
    await menu('Machine', 'Clone…');
    const dialog = page.getByRole('dialog', { name: `Clone ${NAME}` });
    await dialog.waitFor();
    expect(await cloneFrom(dialog).innerText()).toBe('Current state');
    await cloneFrom(dialog).click();
    await page.getByRole('option', { name: 'Current state', selected: true }).waitFor();
    await page.getByRole('option', { name: `Snapshot “${SNAP}”`, selected: false }).waitFor();
    await page.getByRole('option', { name: 'Current state' }).click();
    expect(await dialog.getByRole('radio', { name: 'Full clone' }).isChecked()).toBe(true);
    expect(await dialog.getByRole('radio', { name: 'Full clone' }).isDisabled()).toBe(false);
    expect(await dialog.locator('.field-note').count()).toBe(0);
    await dialog.getByText('independent copy of every disk').waitFor();
    // The schema's longest message, under the field and in the footer.
    await dialog.getByLabel('New name').fill('bad/name');
    await expect.poll(() => dialog.locator('.footer-hint').innerText()).toContain('must start with a letter or digit');
    expect(await dialog.getByRole('button', { name: 'Clone', exact: true }).isDisabled()).toBe(true);
    await expectReadable(dialog);
    await look(page, 'vmdesk-clone-stopped-name-error.png');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
  });

  it('clones it linked with "Clone from here" in the tree’s context menu; the clone appears in the list', async () => {
    await tree().getByText(SNAP).click({ button: 'right' });
    await page.getByRole('menuitem', { name: 'Clone from here…' }).click();
    const dialog = page.getByRole('dialog', { name: `Clone ${NAME}` });
    await dialog.waitFor();
    expect(await dialog.getByLabel('New name').inputValue()).toBe(`${NAME} Clone`);
    expect(await cloneFrom(dialog).innerText()).toBe(`Snapshot “${SNAP}”`);
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
    // Nothing is pending: the disk changes are applied at once.
    await settings.getByRole('button', { name: 'Close', exact: true }).click();
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

  it('on the running machine (the one guest this file boots) Machine › Clone opens on a linked clone, Full greyed out with its reason, no error', async () => {
    await ok(served.sb, ['start', NAME], { timeoutMs: 120_000 });
    await row(NAME).click();
    await expect.poll(() => row(NAME).getAttribute('aria-label'), { timeout: 120_000 }).toBe(`${NAME}, Running`);
    await menu('Machine', 'Clone…');
    const dialog = page.getByRole('dialog', { name: `Clone ${NAME}` });
    await dialog.waitFor();
    const full = dialog.getByRole('radio', { name: 'Full clone' });
    const linked = dialog.getByRole('radio', { name: 'Linked clone' });
    const reason = dialog.getByText('A full clone needs the machine stopped');
    expect(await cloneFrom(dialog).innerText()).toBe('Current state');
    expect(await linked.isChecked()).toBe(true);
    expect(await full.isDisabled()).toBe(true);
    await reason.waitFor();
    await dialog.getByText('A snapshot of the current state is taken for it.').waitFor();
    // Said as a note, not as an error: nothing red, nothing in the footer, Clone is offered.
    expect(await dialog.locator('.el-form-item__error, .el-form-item.is-error').count()).toBe(0);
    expect(await dialog.locator('.footer-hint').innerText()).toBe('');
    expect(await dialog.getByRole('button', { name: 'Clone', exact: true }).isDisabled()).toBe(false);
    await expectReadable(dialog);
    await look(page, 'vmdesk-clone-running.png');
    // A full clone of the running current state cannot be chosen: clicking it changes nothing…
    await dialog.getByText('Full clone', { exact: true }).click({ force: true });
    expect(await full.isChecked()).toBe(false);
    expect(await linked.isChecked()).toBe(true);
    // …it can of a snapshot; back on the current state, the dialog returns to a linked clone.
    await cloneFrom(dialog).click();
    await page.getByRole('option', { name: `Snapshot “${SNAP}”` }).click();
    await reason.waitFor({ state: 'detached' });
    await dialog.getByText('Full clone', { exact: true }).click(); // once the select's list is gone from over it
    expect(await full.isChecked()).toBe(true);
    await cloneFrom(dialog).click();
    await page.getByRole('option', { name: 'Current state' }).click();
    await reason.waitFor();
    expect(await linked.isChecked()).toBe(true);
    expect(await full.isChecked()).toBe(false);
    expect(await dialog.locator('.el-form-item__error').count()).toBe(0);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
  });

  it('takes a live snapshot of the running machine, saves its state and discards it', async () => {
    expect(JSON.parse(await ok(served.sb, ['show', NAME, '--json'])).status.state).toBe('running');
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
