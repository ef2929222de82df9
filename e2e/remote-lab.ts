/**
 * What the e2e tests with a second host share (remote-hosts, migration): the UI served here with a
 * real sshd in a network namespace (src-main/integration/ssh-host.ts) in its ssh_config, that host's
 * own CLI, the host added from the Host menu, the machine list's rows and a serial console's lines.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import type { Sandbox } from '../src-main/integration/harness.js';
import type { SshHost } from '../src-main/integration/ssh-host.js';
import { launchBrowser, openUi, serve, type Served } from './harness.js';

/** Set VMDESK_SCREENSHOTS=docs/screenshots to refresh the docs' pictures. */
const SHOTS = process.env.VMDESK_SCREENSHOTS;

/** A screenshot for the docs (when asked for), with the pointer moved to `pointer` and no toast over the page. */
export async function screenshot(page: Page, file: string, pointer: { x: number; y: number }): Promise<void> {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  // No tooltip of whatever the pointer last hovered, no menu still fading out, no toast over the toolbar.
  await page.mouse.move(pointer.x, pointer.y);
  await page.waitForTimeout(600);
  await page.locator('.el-message').evaluateAll((els) => els.forEach((e) => ((e as HTMLElement).style.visibility = 'hidden')));
  await page.screenshot({ path: path.join(SHOTS, file) });
}

export type Listed = { uuid: string; config: { name: string }; status: { state: string } };

/** The remote host's own CLI, on its library. */
export function remoteCli(host: SshHost, command: string): string {
  const run = host.ssh([`env VMDESK_HOME=${host.remoteHome} ${host.remoteCommand} ${command}`], { timeoutMs: 180_000 });
  if (run.status !== 0) throw new Error(`remote vmdesk ${command} failed (${run.status}): ${run.stderr}`);
  return run.stdout;
}

/** A machine as the remote host's own VMDesk lists it. */
export function remoteMachine(host: SshHost, name: string): Listed | undefined {
  return (JSON.parse(remoteCli(host, 'list --json')) as Listed[]).find((m) => m.config.name === name);
}

export interface RemoteLab {
  served: Served;
  browser: Browser;
  context: BrowserContext;
  page: Page;
}

/** `vmdesk serve` on the library `sb`, `host` in its ssh_config, and a page of its UI in Chromium. */
export async function serveWithHost(host: SshHost, sb: Sandbox): Promise<RemoteLab> {
  const served = await serve({ ...sb, env: { ...sb.env, VMDESK_SSH_CONFIG: host.sshConfig } });
  const browser = await launchBrowser();
  const { context, page } = await openUi(browser, served);
  return { served, browser, context, page };
}

/** The take-down of what serveWithHost and startSshHost made: `running`, names of machines on the host, forced off first. */
export async function stopRemoteLab(lab: { browser?: Browser; served?: Served; host?: SshHost }, running: string[]): Promise<void> {
  await lab.browser?.close();
  if (lab.host) {
    for (const name of running) {
      try {
        remoteCli(lab.host, `stop ${name} --force`);
      } catch {
        // not there, or not running
      }
    }
  }
  await lab.served?.stop();
  await lab.served?.sb.cleanup();
  await lab.host?.stop();
}

/** The list's header row of a host (`lab` unless named). */
export const hostRow = (page: Page, name = 'lab'): Locator => page.getByRole('option', { name: new RegExp(`^Host ${name}, `) });
/** The list's row of a machine. */
export const machineRow = (page: Page, name: string): Locator => page.getByRole('option', { name: new RegExp(`^${name}, `) });

/** Clicks a menu of the menu bar, then one of its items. */
export async function menu(page: Page, title: string, item: string): Promise<void> {
  await page.getByRole('menubar', { name: 'Menu bar' }).getByText(title, { exact: true }).click();
  await page.getByRole('menuitem', { name: item, exact: true }).click();
}

/** Host › Add host… filled in for `host` under the name lab, and Add clicked; the dialog, which then asks about the host key. */
export async function addHost(page: Page, host: SshHost): Promise<Locator> {
  await menu(page, 'Host', 'Add host…');
  const dialog = page.getByRole('dialog', { name: 'Add host' });
  await dialog.waitFor();
  await dialog.getByLabel('SSH destination').fill(host.alias);
  await dialog.getByLabel('Name').fill('lab');
  await dialog.getByLabel('Remote library').fill(host.remoteHome);
  await dialog.getByLabel('Remote command').fill(host.remoteCommand);
  await dialog.getByRole('button', { name: 'Add', exact: true }).click();
  return dialog;
}

export const serialRows = (p: Page): Locator => p.locator('[data-testid="serial-console"] .xterm-rows');
/** The lines of the serial console, as shown. */
export const serialLines = (p: Page): Promise<string[]> =>
  serialRows(p).evaluate((rows) => [...rows.children].map((r) => (r.textContent ?? '').trim()));
export async function typeInSerial(p: Page, text: string): Promise<void> {
  await p.locator('[data-testid="serial-console"] .xterm').click();
  await p.keyboard.type(text);
}
