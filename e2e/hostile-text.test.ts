// Guest- and appliance-controlled text in the real UI, in Chromium, under the server's CSP: notes and
// a network name from a hostile OVA (imported through the Import dialog), snapshot names and
// descriptions, serial output with escape sequences (OSC 52 clipboard write, OSC 8 links, window
// titles), and a VNC desktop name. Each is HTML that would run script if it were ever parsed as HTML:
// the test checks that none ran (a window.__pwned marker), that it shows as text, that no CSP
// violation was reported (a blocked handler would mean it reached the DOM as HTML), and that the guest
// wrote neither the clipboard nor the window title.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PROMPT } from '../src-main/core/demo/demo-guest.js';
import { RUNTIME } from '../src-main/core/paths.js';
import { TarWriter, formatManifest, readTarIndex } from '../src-main/core/portability/ova.js';
import { launchBrowser, ok, openUi, pageProblems, serve, type Served, stopServed } from './harness.js';

const pwn = (where: string): string => `<img src=x onerror="window.__pwned='${where}'">`;
const NOTES = `Notes <script>window.__pwned='notes-script'</script>${pwn('notes')} & more`;
const NETWORK = `${pwn('nic')}<script>window.__pwned='nic-script'</script>`;
const SNAP_NAME = pwn('snap');
const SNAP_DESCRIPTION = `<script>window.__pwned='description'</script>${pwn('description')}`;
const DESKTOP_NAME = `${pwn('vnc')}<script>window.__pwned='vnc-script'</script>\u001b]0;vnc-title\u0007`;
const IMPORTED = 'imported';
const TERM = 'term';

interface Observed {
  pwned: unknown;
  violations: { directive: string; blocked: string; source: string }[];
  injected: number;
  title: string;
}

/** What the page shows of an attack: the marker, CSP violations, and any element the strings would make. */
async function observe(page: Page): Promise<Observed> {
  return page.evaluate(() => {
    const w = window as unknown as { __pwned?: unknown; __violations?: Observed['violations'] };
    return {
      pwned: w.__pwned ?? null,
      violations: w.__violations ?? [],
      injected: document.querySelectorAll('img[src="x"], script:not([src])').length,
      title: document.title,
    };
  });
}

function expectNothingRan(seen: Observed): void {
  expect(seen.pwned).toBeNull();
  expect(seen.violations).toEqual([]);
  expect(seen.injected).toBe(0);
}

/**
 * Click the output line's `word` in the terminal, by position: xterm.js re-renders its rows (the
 * cursor blinks), so an element handle would not stay put long enough to be clicked.
 */
async function clickText(page: Page, word: string): Promise<void> {
  const point = await page.evaluate((w) => {
    const rows = [...document.querySelectorAll('[data-testid="serial-console"] .xterm-rows > div')];
    const row = rows.find((r) => r.textContent?.startsWith('js-link http-link'));
    const walker = row ? document.createTreeWalker(row, NodeFilter.SHOW_TEXT) : null;
    for (let node = walker?.nextNode(); node; node = walker?.nextNode()) {
      const at = node.textContent?.indexOf(w) ?? -1;
      if (at < 0) continue;
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + w.length);
      const box = range.getBoundingClientRect();
      return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    }
    return null;
  }, word);
  if (!point) throw new Error(`"${word}" is not on the terminal's output line`);
  await page.mouse.move(point.x - 3, point.y);
  await page.mouse.move(point.x, point.y);
  await page.mouse.click(point.x, point.y);
}

/** An OVA the project's export wrote, with the notes and the network name replaced by hostile text. */
async function hostileOva(served: Served): Promise<string> {
  await ok(served.sb, ['create', 'plain', '--disk', '1M', '--notes', 'plain notes']);
  const clean = path.join(served.sb.home, 'plain.ova');
  await ok(served.sb, ['export', 'plain', clean], { timeoutMs: 120_000 });
  const bytes = fs.readFileSync(clean);
  const members = (await readTarIndex(clean)).map((e) => ({ name: e.name, data: bytes.subarray(e.offset, e.offset + e.size) }));
  const xml = (s: string): string => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
  for (const m of members.filter((x) => x.name.endsWith('.ovf'))) {
    const ovf = m.data.toString('utf8');
    const hostile = ovf
      .replace('<Annotation>plain notes</Annotation>', `<Annotation><![CDATA[${NOTES}]]></Annotation>`)
      .replace('<rasd:Connection>NAT</rasd:Connection>', `<rasd:Connection>${xml(NETWORK)}</rasd:Connection>`);
    expect(hostile).not.toBe(ovf);
    expect(hostile).not.toContain('plain notes');
    m.data = Buffer.from(hostile);
  }
  const file = path.join(served.sb.home, 'hostile.ova');
  const handle = await fs.promises.open(file, 'w');
  const tar = new TarWriter(handle);
  for (const m of members) {
    if (!m.name.endsWith('.mf')) await tar.addBuffer(m.name, m.data);
    else {
      const lines = members
        .filter((x) => !x.name.endsWith('.mf'))
        .map((x) => ({ file: x.name, sha256: createHash('sha256').update(x.data).digest('hex') }));
      await tar.addBuffer(m.name, Buffer.from(formatManifest(lines)));
    }
  }
  await tar.finish();
  await handle.close();
  await ok(served.sb, ['delete', 'plain']);
  return file;
}

/**
 * A VNC server that is not QEMU (QEMU's desktop name is the machine name, which VMDesk restricts to
 * plain characters): RFB 3.8, no authentication, a ServerInit carrying `name`. Resolves `initialised`
 * once the viewer has read the ServerInit and sent its first messages.
 */
function fakeVncServer(socketPath: string, name: string): { server: net.Server; initialised: Promise<void> } {
  let reached: () => void = () => undefined;
  const initialised = new Promise<void>((resolve) => (reached = resolve));
  const server = net.createServer((client) => {
    let stage = 0;
    let buffered = Buffer.alloc(0);
    client.on('error', () => undefined);
    client.write('RFB 003.008\n');
    client.on('data', (data: Buffer) => {
      buffered = Buffer.concat([buffered, data]);
      const take = (n: number): boolean => {
        if (buffered.length < n) return false;
        buffered = buffered.subarray(n);
        return true;
      };
      if (stage === 0 && take(12)) {
        stage = 1;
        client.write(Buffer.from([1, 1])); // one security type: None
      }
      if (stage === 1 && take(1)) {
        stage = 2;
        client.write(Buffer.alloc(4)); // SecurityResult OK
      }
      if (stage === 2 && take(1)) {
        stage = 3;
        const nameBytes = Buffer.from(name, 'utf8');
        const init = Buffer.alloc(24);
        init.writeUInt16BE(640, 0);
        init.writeUInt16BE(480, 2);
        // 32 bpp, depth 24, little endian, true colour, 255/255/255, shifts 16/8/0.
        Buffer.from([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]).copy(init, 4);
        init.writeUInt32BE(nameBytes.length, 20);
        client.write(Buffer.concat([init, nameBytes]));
      }
      if (stage === 3 && buffered.length > 0) reached();
    });
  });
  server.listen(socketPath);
  return { server, initialised };
}

describe('guest-controlled text in the UI', () => {
  let served: Served;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let ova: string;
  let termUuid: string;

  beforeAll(async () => {
    served = await serve();
    ova = await hostileOva(served);
    await ok(served.sb, ['create', TERM, '--demo']);
    termUuid = (JSON.parse(await ok(served.sb, ['show', TERM, '--json'])) as { uuid: string }).uuid;
    browser = await launchBrowser();
    ({ context, page } = await openUi(browser, served));
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: served.origin });
    // Every page of the context records CSP violations from its first script on.
    await context.addInitScript(() => {
      const w = window as unknown as { __violations: { directive: string; blocked: string; source: string }[] };
      w.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        w.__violations.push({ directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile }),
      );
    });
    await page.reload();
    await page.locator('#app > *').first().waitFor({ timeout: 30_000 });
  });

  afterAll(async () => {
    await stopServed(browser, served, [TERM]);
    await served?.sb.cleanup();
  });

  it('imports a hostile OVA through the UI: its notes and network name show as text', async () => {
    await page.getByRole('menubar', { name: 'Menu bar' }).getByText('File', { exact: true }).click();
    await page.getByRole('menuitem', { name: 'Import appliance…', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Import appliance' });
    await dialog.getByLabel('File').fill(ova);
    await dialog.getByLabel('Name').fill(IMPORTED);
    await dialog.getByRole('button', { name: 'Import' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 120_000 });
    const warning = page.locator('.el-notification').filter({ hasText: 'was on' });
    await warning.first().waitFor({ timeout: 30_000 });
    expect(await warning.first().textContent()).toContain(`was on "${NETWORK}"; it is on NAT now`);
    const notes = page.getByRole('region', { name: 'Notes' });
    await notes.waitFor();
    expect(await notes.locator('p').textContent()).toBe(NOTES);
    expect(await notes.locator('p > *').count()).toBe(0);
    const shown = JSON.parse(await ok(served.sb, ['show', IMPORTED, '--json'])) as { config: { notes: string } };
    expect(shown.config.notes).toBe(NOTES);
    expectNothingRan(await observe(page));
  });

  it('shows snapshot names and descriptions as text: tree, details, tooltip and the delete question', async () => {
    await ok(served.sb, ['snapshot', IMPORTED, 'take', SNAP_NAME, '--description', SNAP_DESCRIPTION]);
    await page.getByRole('tab', { name: 'Snapshots' }).click();
    const tree = page.getByRole('tree', { name: 'Snapshot tree' });
    const item = tree.getByText(SNAP_NAME, { exact: true });
    await item.waitFor({ timeout: 30_000 });
    await item.click();
    const details = page.locator('.snapshot-details');
    await details.getByText(SNAP_DESCRIPTION, { exact: true }).waitFor();
    await item.hover();
    await page.getByRole('tooltip').getByText(SNAP_DESCRIPTION, { exact: true }).waitFor();
    await page.getByRole('toolbar', { name: 'Snapshot actions' }).getByRole('button', { name: 'Delete' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete snapshot' });
    await confirm.getByText(`Delete snapshot “${SNAP_NAME}”`, { exact: false }).waitFor();
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'hidden' });
    // Deleted for real: the task and its message name it too.
    await page.getByRole('toolbar', { name: 'Snapshot actions' }).getByRole('button', { name: 'Delete' }).click();
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await page.locator('.el-message').getByText(`Deleted snapshot “${SNAP_NAME}”`).waitFor({ timeout: 60_000 });
    await tree.getByText(SNAP_NAME, { exact: true }).waitFor({ state: 'detached' });
    expectNothingRan(await observe(page));
    expect(pageProblems(page)).toEqual([]);
  });

  it('lets serial output write neither the clipboard nor the window title, nor open a javascript: link', async () => {
    await ok(served.sb, ['start', TERM], { timeoutMs: 120_000 });
    const consolePage = await context.newPage();
    await consolePage.goto(`${served.origin}/#/console/${termUuid}`);
    await consolePage.getByRole('tab', { name: 'Serial' }).click();
    const rows = consolePage.locator('[data-testid="serial-console"] .xterm-rows');
    await rows.getByText(DEMO_PROMPT.trim()).first().waitFor({ timeout: 150_000 });
    const title = `${TERM} — Running — VMDesk`;
    await expect.poll(() => consolePage.title()).toBe(title);
    await consolePage.evaluate(() => navigator.clipboard.writeText('clipboard-before'));
    // OSC 52 (clipboard write: base64 of "pwned-clipboard"), OSC 0 and 2 (titles), OSC 8 links.
    const sequences = [
      '\\033]52;c;cHduZWQtY2xpcGJvYXJk\\007',
      '\\033]52;p;cHduZWQtY2xpcGJvYXJk\\033\\\\',
      '\\033]0;pwned-title-0\\007',
      '\\033]2;pwned-title-2\\033\\\\',
      '\\033]8;;javascript:window.__pwned=8\\033\\\\js-link\\033]8;;\\033\\\\ ',
      '\\033]8;;http://127.0.0.1:1/osc8\\033\\\\http-link\\033]8;;\\033\\\\ ',
    ].join('');
    await ok(served.sb, ['send', TERM, `printf '${sequences}'; echo osc-$((40+2))\\n`]);
    await expect.poll(() => rows.textContent(), { timeout: 30_000 }).toContain('osc-42');
    expect(await consolePage.title()).toBe(title);
    expect(await consolePage.evaluate(() => navigator.clipboard.readText())).toBe('clipboard-before');
    const dialogs: string[] = [];
    consolePage.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const pagesBefore = context.pages().length;
    // xterm.js drops OSC 8 links that are not http(s): a click on one does nothing.
    await clickText(consolePage, 'js-link');
    await consolePage.waitForTimeout(500);
    expect(dialogs).toEqual([]);
    // An http(s) link asks first, naming where it goes; declined, nothing opens.
    await clickText(consolePage, 'http-link');
    await expect.poll(() => dialogs.length, { timeout: 5_000 }).toBe(1);
    expect(dialogs[0]).toContain('http://127.0.0.1:1/osc8');
    expect(context.pages().length).toBe(pagesBefore);
    expect(await consolePage.title()).toBe(title);
    expectNothingRan(await observe(consolePage));
    expect(pageProblems(consolePage)).toEqual([]);
    await consolePage.close();
  });

  it('never shows a hostile VNC desktop name as HTML, nor as the window title', async () => {
    // QEMU keeps serving its unlinked socket; viewers that connect from now on get this server.
    const socketPath = path.join(served.sb.runtime, termUuid, RUNTIME.vnc);
    expect(fs.existsSync(socketPath)).toBe(true);
    fs.rmSync(socketPath);
    const fake = fakeVncServer(socketPath, DESKTOP_NAME);
    try {
      const consolePage = await context.newPage();
      await consolePage.goto(`${served.origin}/#/console/${termUuid}`);
      await consolePage.getByRole('tab', { name: 'Display' }).click();
      await fake.initialised;
      await consolePage.getByText('Connecting…').waitFor({ state: 'hidden', timeout: 10_000 });
      await consolePage.waitForTimeout(500);
      const seen = await observe(consolePage);
      expectNothingRan(seen);
      expect(seen.title).toBe(`${TERM} — Running — VMDesk`);
      expect(await consolePage.locator('body').textContent()).not.toContain('__pwned');
      expect(pageProblems(consolePage)).toEqual([]);
      await consolePage.close();
    } finally {
      fake.server.close();
    }
  });
});
