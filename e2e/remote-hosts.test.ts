// Remote hosts end to end: Chromium clicks through the UI served by `vmdesk serve`, which reaches a
// second host — a real sshd in a network namespace, with its own library — over OpenSSH. The host is
// added from the Host menu, its unknown key's fingerprint shown and confirmed, its machine (made
// there beforehand with its own CLI) listed under it, started, and typed into on its serial console
// through the SSH link; the link is then cut under the open console, which reconnects by itself.
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
  remoteCli,
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
const unavailable = sshHostUnavailable();

const shot = (page: Page, file: string): Promise<void> => screenshot(page, file, { x: 640, y: 760 });

describe('a remote host in a browser, over a real SSH link', () => {
  let host: SshHost;
  let served: Served;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let consolePage: Page;
  let uuid = '';

  /** The remote host's own CLI, on its library. */
  const remote = (command: string): string => remoteCli(host, command);
  const row = (name: string): Locator => machineRow(page, name);
  const serialPane = (p: Page): Locator => p.getByRole('region', { name: 'Serial console', exact: true });

  beforeAll(async () => {
    if (unavailable) return;
    host = await startSshHost({ name: 'lab' });
    // The remote machine exists before the UI sees the host: made there by its own VMDesk.
    remote('create web --demo --memory 128');
    const sb = makeSandbox();
    // And one on this computer: the list then has two groups.
    await ok(sb, ['create', 'desk', '--demo', '--memory', '96']);
    ({ served, browser, context, page } = await serveWithHost(host, sb));
    // Every page of the context, the console window included, records CSP violations from its first script on.
    await context.addInitScript(() => {
      const w = window as unknown as { __violations: string[] };
      w.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        w.__violations.push(`${e.effectiveDirective} ${e.blockedURI} ${e.sourceFile}`),
      );
    });
    await page.reload();
  });

  afterAll(async () => {
    await stopRemoteLab({ browser, served, host }, ['web']);
  });

  it('adds the host from the Host menu: the unknown key is shown in ssh’s words and trusted once confirmed', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    await row('desk').waitFor();
    const dialog = await addHost(page, host);

    const question = dialog.getByTestId('host-key-question');
    await question.waitFor({ timeout: 60_000 });
    const words = (await question.textContent()) ?? '';
    expect(words).toContain(`The authenticity of host '${host.alias}' can't be established.`);
    const shown = /key fingerprint is (SHA256:[A-Za-z0-9+/]{43})\./.exec(words)?.[1];
    expect(shown).toBe(host.fingerprint);
    // Nothing is trusted or saved until the user says so.
    expect(fs.readFileSync(host.knownHostsFile, 'utf8')).toBe('');
    expect(fs.existsSync(path.join(served.sb.home, 'hosts.json'))).toBe(false);
    await shot(page, 'add-host.png');

    await dialog.getByRole('button', { name: 'Trust and connect' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 60_000 });
    await expect.poll(() => hostRow(page).getAttribute('aria-label'), { timeout: 30_000 }).toMatch(/^Host lab, connected, /);
    expect(fs.readFileSync(host.knownHostsFile, 'utf8')).toMatch(/ssh-ed25519 /);
  });

  it('lists the remote machine under its host, and shows the host’s details', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    await expect.poll(() => row('web').getAttribute('aria-label'), { timeout: 30_000 }).toBe('web, Powered off');
    expect(await row('web').getAttribute('data-host')).toBe('lab');
    // In the list's order: this computer's header, then lab's, then its machine.
    const order = await page
      .getByRole('listbox', { name: 'Machine list' })
      .getByRole('option')
      .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
    expect(order).toEqual(['Host This computer, 1 machine', 'desk, Powered off', 'Host lab, connected, 1 machine', 'web, Powered off']);

    await hostRow(page).click();
    const pane = page.getByRole('region', { name: 'Details of lab' });
    await pane.getByText('Free space').waitFor({ timeout: 30_000 });
    await expect.poll(() => pane.textContent()).toContain(host.remoteHome);
    await expect.poll(() => pane.textContent()).toMatch(/0 running of 1/);
    await expect.poll(() => pane.textContent()).toMatch(/QEMU\s*\d+\.\d+/);
    await expect.poll(() => pane.textContent()).toContain(host.alias);
    expect(await pane.getByRole('button', { name: 'Connect', exact: true }).isDisabled()).toBe(true);
    expect(await pane.getByRole('button', { name: 'Disconnect' }).isDisabled()).toBe(false);
    await shot(page, 'host-details.png');

    // This computer has its details pane too.
    await page.getByRole('option', { name: /^Host This computer, / }).click();
    const local = page.getByRole('region', { name: 'Details of This computer' });
    await local.getByText('Free space').waitFor({ timeout: 30_000 });
    await expect.poll(() => local.textContent()).toContain(served.sb.home);
    await expect.poll(() => local.textContent()).toMatch(/0 running of 1/);
    await shot(page, 'host-details-local.png');
  });

  it('creates a machine there with the wizard: its Host is the selected one, and its paths are said to be that host’s', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    await hostRow(page).click();
    await page.getByRole('toolbar', { name: 'Machine actions' }).getByRole('button', { name: 'New' }).click();
    const wizard = page.getByRole('dialog', { name: 'New machine on lab' });
    await wizard.waitFor();
    expect(await wizard.locator('.el-form-item', { hasText: 'Host' }).first().locator('.el-select').textContent()).toBe('lab');
    await wizard.getByLabel('Name').fill('db');
    await shot(page, 'wizard-host.png');
    // Next is enabled once nothing blocks the step; the footer says what does (in a full e2e run
    // under load it once stayed disabled for 30 s: a failure now shows why).
    await expect.poll(() => wizard.locator('.footer-hint').innerText(), { timeout: 30_000 }).toBe('');
    await wizard.getByRole('button', { name: 'Next' }).click();
    await wizard.getByRole('radio', { name: /ISO image/ }).check({ force: true });
    await wizard.getByTestId('wizard-paths-note').getByText('Paths are on lab').waitFor();
    await wizard.getByRole('radio', { name: /Demo guest/ }).check({ force: true });
    await wizard.getByRole('button', { name: 'Next' }).click();
    await wizard.getByLabel('Memory (MiB)').fill('96');
    await wizard.getByRole('button', { name: 'Next' }).click();
    await wizard.getByRole('button', { name: 'Create' }).click();
    await wizard.waitFor({ state: 'hidden', timeout: GUEST_TIMEOUT });
    await expect.poll(() => row('db').getAttribute('aria-label'), { timeout: 30_000 }).toBe('db, Powered off');
    expect(await row('db').getAttribute('data-host')).toBe('lab');
    // Made in the remote library, by the remote VMDesk; nothing here.
    const names = (JSON.parse(remote('list --json')) as Listed[]).map((m) => m.config.name).sort();
    expect(names).toEqual(['db', 'web']);
    expect(fs.readdirSync(path.join(served.sb.home, 'machines'))).toEqual(['desk']);
  });

  it('starts it there and types into its serial console through the SSH link', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    await row('web').click();
    await page.getByRole('toolbar', { name: 'Machine actions' }).getByRole('button', { name: 'Start' }).click();
    await expect.poll(() => row('web').getAttribute('aria-label'), { timeout: GUEST_TIMEOUT }).toBe('web, Running');
    const web = remoteMachine(host, 'web');
    expect(web?.status.state).toBe('running');
    uuid = web?.uuid ?? '';
    await shot(page, 'hosts-list.png');

    [consolePage] = await Promise.all([
      context.waitForEvent('page'),
      page.getByRole('toolbar', { name: 'Machine actions' }).getByRole('button', { name: 'Console' }).click(),
    ]);
    expect(consolePage.url()).toContain(`#/console/lab/${uuid}`);
    await consolePage.getByTestId('console-host').getByText('on lab').waitFor();
    await consolePage.getByRole('tab', { name: 'Serial' }).click();
    await serialRows(consolePage).getByText(DEMO_PROMPT.trim()).first().waitFor({ timeout: GUEST_TIMEOUT });
    await typeInSerial(consolePage, 'echo $((6*7))\n');
    await expect.poll(() => serialLines(consolePage), { timeout: 30_000 }).toContain('42');
    await shot(consolePage, 'console-remote.png');
  });

  it('cut link: the machine keeps running there and the console reconnects by itself', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    expect(await host.killSessions()).toBeGreaterThan(0);
    // The console says what happened, then comes back once VMDesk has reconnected (with backoff).
    await serialPane(consolePage)
      .getByText(/Disconnected from lab|connection to lab was lost|The serial stream closed/)
      .first()
      .waitFor({ timeout: 30_000 });
    await consolePage.locator('.serial-phase').getByText('Connected').waitFor({ timeout: 60_000 });
    await typeInSerial(consolePage, 'echo again-$((6*7))\n');
    await expect.poll(() => serialLines(consolePage), { timeout: 30_000 }).toContain('again-42');
    // It ran on meanwhile: the remote host's own VMDesk says so.
    expect(remoteMachine(host, 'web')?.status.state).toBe('running');
    await expect.poll(() => row('web').getAttribute('aria-label'), { timeout: 30_000 }).toBe('web, Running');
  });

  it('Host › Disconnect greys its machines (they run on there); Connect brings them and the console back', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    await hostRow(page).click();
    await menu(page, 'Host', 'Disconnect');
    await expect.poll(() => hostRow(page).getAttribute('aria-label'), { timeout: 30_000 }).toMatch(/^Host lab, disconnected, /);
    await expect.poll(() => row('web').getAttribute('aria-label')).toBe('web, disconnected');
    expect(await row('web').getAttribute('class')).toContain('unreachable');
    await serialPane(consolePage).getByText('Disconnected from lab').waitFor({ timeout: 30_000 });
    await shot(page, 'host-disconnected.png');
    expect(remoteMachine(host, 'web')?.status.state).toBe('running');

    await page.getByRole('region', { name: 'Details of lab' }).getByRole('button', { name: 'Connect', exact: true }).click();
    await expect.poll(() => row('web').getAttribute('aria-label'), { timeout: 60_000 }).toBe('web, Running');
    await consolePage.locator('.serial-phase').getByText('Connected').waitFor({ timeout: 60_000 });
    await typeInSerial(consolePage, 'echo back-$((6*7))\n');
    await expect.poll(() => serialLines(consolePage), { timeout: 30_000 }).toContain('back-42');
  });

  it('powers it off from the manager', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    await row('web').click();
    await page.getByRole('toolbar', { name: 'Machine actions' }).getByRole('button', { name: 'Stop' }).click();
    await page.getByRole('menuitem', { name: 'Power off' }).click();
    await expect.poll(() => row('web').getAttribute('aria-label'), { timeout: 60_000 }).toBe('web, Powered off');
  });

  it('logged no page errors, and the CSP blocked nothing', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    expect(pageProblems(page)).toEqual([]);
    expect(pageProblems(consolePage)).toEqual([]);
    const violations = (p: Page): Promise<string[]> => p.evaluate(() => (window as unknown as { __violations: string[] }).__violations);
    expect(await violations(page)).toEqual([]);
    expect(await violations(consolePage)).toEqual([]);
  });
});
