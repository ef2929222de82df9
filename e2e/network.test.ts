// Settings › Network end to end: Chromium drives the UI served by `vmdesk serve` while the demo guest
// runs a web server. A port forward added live reaches it from the host; one on a host port in use
// is refused with nothing changed; the cable unplugged from the UI cuts it off, plugged back restores
// it; Adapter 2 becomes an internal network in machine.json.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import type { NetworkHostInfo } from '../src-main/api/network.js';
import { launchBrowser, ok, openUi, pageProblems, serve, type Served, stopServed } from './harness.js';

const NAME = 'net demo';
const OFFLINE = 'net none';
const PROMPT = 'vmdesk-demo# ';
const PAGE = 'vmdesk-forwarded-page';
/** Set VMDESK_SCREENSHOTS=docs/screenshots to refresh the docs' pictures. */
const SHOTS = process.env.VMDESK_SCREENSHOTS;

async function shot(page: Page, file: string): Promise<void> {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, file) });
}

/** A port nothing listens on now (the kernel's choice). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The body of http://127.0.0.1:PORT/, or the reason there is none within `timeoutMs`. */
function fetchPage(port: number, timeoutMs = 3000): Promise<{ body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ body }));
      res.on('error', (e) => resolve({ error: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => resolve({ error: e.message }));
  });
}

const bodyOf = async (port: number, timeoutMs?: number): Promise<string> => {
  const r = await fetchPage(port, timeoutMs);
  return 'body' in r ? r.body : `(${r.error})`;
};

interface Shown {
  config: { nics: { id: string; cable: boolean; attachment: { type: string; network?: string; portForwards?: { name: string }[] } }[] };
}

describe('Settings › Network in a browser, on a running guest', () => {
  let served: Served;
  let browser: Browser;
  let page: Page;
  let settings: Locator;
  let hostPort = 0;
  const held = net.createServer();
  let heldPort = 0;

  const row = (name: string): Locator => page.getByRole('option', { name: new RegExp(`^${name}, `) });
  const adapter = (n: number): Locator => settings.getByRole('tabpanel', { name: `Adapter ${n}` });
  /** The Settings dialog scrolled to the top; in dark mode too (NAME-dark.png) with VMDESK_SCREENSHOTS_DARK=1. */
  const settingsShot = async (file: string): Promise<void> => {
    await settings.locator('.settings-tabs > .el-tabs__content').evaluate((e) => e.scrollTo(0, 0));
    await shot(page, file);
    if (!process.env.VMDESK_SCREENSHOTS_DARK) return;
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(600); // Element Plus's colour transitions
    await shot(page, file.replace('.png', '-dark.png'));
    await page.emulateMedia({ colorScheme: 'light' });
  };
  const shown = async (): Promise<Shown> => JSON.parse(await ok(served.sb, ['show', NAME, '--json'])) as Shown;

  beforeAll(async () => {
    served = await serve();
    await ok(served.sb, ['create', NAME, '--demo']);
    await ok(served.sb, ['start', NAME], { timeoutMs: 60_000 });
    browser = await launchBrowser();
    ({ page } = await openUi(browser, served));
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    heldPort = (held.address() as net.AddressInfo).port;
    hostPort = await freePort();
    await ok(served.sb, ['wait', NAME, '--text', PROMPT, '--timeout', '90']);
    // The guest's web server (it listens whether or not DHCP is done).
    const script = `mkdir -p /tmp/www && echo ${PAGE} > /tmp/www/index.html && busybox httpd -p 8080 -h /tmp/www && echo httpd-up-$((40+2))`;
    await ok(served.sb, ['send', NAME, `${script}\\n`]);
    await ok(served.sb, ['wait', NAME, '--text', 'httpd-up-42', '--timeout', '30']);
  });

  afterAll(async () => {
    held.close();
    await stopServed(browser, served, [NAME]);
  });

  it('shows Adapter 1 of the running machine: NAT, virtio-net, its MAC, cable connected, no rules', async () => {
    await row(NAME).click();
    await expect.poll(() => row(NAME).getAttribute('aria-label'), { timeout: 60_000 }).toBe(`${NAME}, Running`);
    await page.getByRole('toolbar', { name: 'Machine actions' }).getByRole('button', { name: 'Settings' }).click();
    settings = page.getByRole('dialog', { name: /^Settings/ });
    await settings.getByRole('tab', { name: 'Network' }).click();
    const one = adapter(1);
    await one.waitFor();
    expect(await one.getByRole('checkbox', { name: 'Enable network adapter' }).isChecked()).toBe(true);
    expect(await one.getByRole('checkbox', { name: 'Cable connected' }).isChecked()).toBe(true);
    expect(await one.getByLabel('MAC address', { exact: true }).inputValue()).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
    await one.getByText('No rules').waitFor();
    await settings.getByText('the cable and the port forwards apply at once').waitFor();
  });

  it('adds a port forward while the guest runs: the host reaches the guest’s web server at once', async () => {
    expect(await bodyOf(hostPort, 1000)).toMatch(/^\(/);
    await adapter(1).getByRole('button', { name: 'Add rule… to Adapter 1' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a port forward to Adapter 1' });
    // Checked as typed, with the core's schema.
    await dialog.getByLabel('Host port').fill('70000');
    await dialog.getByText('A port is a number from 1 to 65535').waitFor();
    await dialog.getByLabel('Rule name').fill('web');
    await dialog.getByLabel('Host port').fill(String(hostPort));
    await dialog.getByLabel('Guest port').fill('8080');
    expect(await dialog.getByLabel('Host IP').inputValue()).toBe('127.0.0.1');
    await dialog.getByText('the running guest is reachable through it now').waitFor();
    await dialog.getByRole('button', { name: 'Add', exact: true }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 30_000 });
    const rules = adapter(1).getByRole('group', { name: 'Port forwarding rules of Adapter 1' });
    await rules.getByText(String(hostPort)).waitFor();
    await expect.poll(() => bodyOf(hostPort), { timeout: 30_000 }).toContain(PAGE);
    const nic = (await shown()).config.nics[0];
    expect(nic?.attachment.portForwards?.map((r) => r.name)).toEqual(['web']);
    await page.locator('.el-message').first().waitFor({ state: 'detached', timeout: 15_000 });
    await settingsShot('network.png');
  });

  it('refuses a rule on a host port in use, saying so, and changes nothing', async () => {
    await adapter(1).getByRole('button', { name: 'Add rule… to Adapter 1' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a port forward to Adapter 1' });
    expect(await dialog.getByLabel('Rule name').inputValue()).toBe('Rule 1');
    await dialog.getByLabel('Host port').fill(String(heldPort));
    await dialog.getByLabel('Guest port').fill('8080');
    await dialog.getByRole('button', { name: 'Add', exact: true }).click();
    const alert = dialog.getByRole('alert').filter({ hasText: 'Nothing was changed' });
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.textContent()).toContain(`Host port ${heldPort} is already in use on 127.0.0.1`);
    expect(await alert.textContent()).toContain('Nothing was changed');
    await shot(page, 'network-port-forward.png');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const rules = adapter(1).getByRole('group', { name: 'Port forwarding rules of Adapter 1' });
    expect(await rules.getByRole('row').count()).toBe(2);
    expect((await shown()).config.nics[0]?.attachment.portForwards).toHaveLength(1);
    // The first rule still works.
    expect(await bodyOf(hostPort, 10_000)).toContain(PAGE);
  });

  it('unplugs the cable from the UI: the page is out of reach; plugged back, it is served again', async () => {
    const cable = adapter(1).getByRole('checkbox', { name: 'Cable connected' });
    const toggle = adapter(1).getByText('Cable connected', { exact: true });
    await adapter(1).getByText('Applies at once, live').waitFor();
    await toggle.click();
    await page.getByText('Adapter 1: cable unplugged').first().waitFor({ timeout: 30_000 });
    expect((await shown()).config.nics[0]?.cable).toBe(false);
    // The details pane behind the dialog follows.
    await page
      .getByRole('region', { name: `Details of ${NAME}` })
      .getByText('virtio-net, NAT, 1 forward, cable unplugged')
      .waitFor();
    expect(await bodyOf(hostPort, 3000)).toMatch(/^\(/);
    expect(await cable.isChecked()).toBe(false);
    await toggle.click();
    await page.getByText('Adapter 1: cable connected').first().waitFor({ timeout: 30_000 });
    expect((await shown()).config.nics[0]?.cable).toBe(true);
    await expect.poll(() => bodyOf(hostPort), { timeout: 30_000 }).toContain(PAGE);
  });

  it('shows what bridging needs on this host, or its bridges, when Adapter 3 is set to Bridged (not saved)', async () => {
    await settings.getByRole('tab', { name: 'Adapter 3' }).click();
    const three = adapter(3);
    await three.getByText('Enable network adapter', { exact: true }).click();
    await three.getByRole('combobox', { name: 'Attached to' }).click({ force: true });
    await page.getByRole('option', { name: 'Bridged adapter', exact: true }).click();
    await three.getByRole('combobox', { name: 'Host bridge' }).waitFor();
    // What the host lacks, as the core finds it (a CLI failure fails the test). With no bridge chosen
    // yet, the alert lists exactly the host-wide problems (not the ACL of one bridge), or is absent.
    const info = JSON.parse(await ok(served.sb, ['network', 'host', '--json'])) as NetworkHostInfo;
    const expected = info.bridgeHelper.problems.filter((p) => !/does not allow [^\s:]+/.test(p));
    const alert = three.getByRole('alert').filter({ hasText: 'Bridged networking cannot work on this host yet' });
    if (expected.length > 0) await alert.waitFor();
    expect(await alert.count()).toBe(expected.length > 0 ? 1 : 0);
    const items = expected.length > 0 ? await alert.locator('li').allTextContents() : [];
    expect(items.map((t) => t.replace(/\s+/g, ' ').trim())).toEqual(expected.map((p) => p.replaceAll('`', '').replace(/\s+/g, ' ').trim()));
    // Each command of a fix is set apart as code.
    const commands = expected.flatMap((p) => p.split('`').filter((_, i) => i % 2 === 1));
    expect(expected.length > 0 ? await alert.locator('code').allTextContents() : []).toEqual(commands);
    await settingsShot('network-bridged.png');
    await three.getByText('Enable network adapter', { exact: true }).click();
    await settings.getByRole('tab', { name: 'Adapter 1' }).click();
  });

  it('puts Adapter 2 on internal network "lab": checked as typed, saved to machine.json for the next start', async () => {
    await settings.getByRole('tab', { name: 'Adapter 2' }).click();
    const two = adapter(2);
    await two.getByText('Enable network adapter', { exact: true }).click();
    expect(await two.getByRole('checkbox', { name: 'Enable network adapter' }).isChecked()).toBe(true);
    await two.getByRole('combobox', { name: 'Attached to' }).click({ force: true });
    await page.getByRole('option', { name: 'Internal network', exact: true }).click();
    const name = two.getByRole('combobox', { name: 'Internal network name' }).or(two.getByLabel('Internal network name'));
    await name.first().fill('la b');
    await two.getByText('An internal network name is').waitFor();
    expect(await settings.getByRole('button', { name: 'Save' }).isDisabled()).toBe(true);
    await name.first().fill('lab');
    await two.getByLabel('MAC address', { exact: true }).fill('01:00:5e:00:00:01');
    await two.getByText('must not be multicast').waitFor();
    await two.getByRole('button', { name: 'Regenerate the MAC address' }).click();
    expect(await two.getByLabel('MAC address', { exact: true }).inputValue()).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
    await two.getByText('Applies at the next start').first().waitFor();
    await settingsShot('network-internal.png');
    await settings.getByRole('button', { name: 'Save' }).click();
    await settings.waitFor({ state: 'hidden', timeout: 30_000 });
    const nics = (await shown()).config.nics;
    expect(nics.map((n) => [n.id, n.attachment.type, n.attachment.network])).toEqual([
      ['net0', 'nat', undefined],
      ['net1', 'internal', 'lab'],
    ]);
    // The details pane sums the adapters up.
    const details = page.getByRole('region', { name: `Details of ${NAME}` });
    await details.getByText('virtio-net, NAT, 1 forward').waitFor();
    await details.getByText("virtio-net, Internal 'lab'").waitFor();
  });

  it('suggests the internal networks in use, with their machines', async () => {
    await page.getByRole('toolbar', { name: 'Machine actions' }).getByRole('button', { name: 'Settings' }).click();
    await settings.getByRole('tab', { name: 'Network' }).click();
    await settings.getByRole('tab', { name: 'Adapter 3' }).click();
    const three = adapter(3);
    await three.getByText('Enable network adapter', { exact: true }).click();
    await three.getByRole('combobox', { name: 'Attached to' }).click({ force: true });
    await page.getByRole('option', { name: 'Internal network', exact: true }).click();
    await three.getByLabel('Internal network name').first().click();
    await page.getByRole('option', { name: `lab ${NAME}` }).click();
    expect(await three.getByLabel('Internal network name').first().inputValue()).toBe('lab');
    await settings.getByRole('button', { name: 'Cancel' }).click();
    await settings.waitFor({ state: 'hidden' });
    expect((await shown()).config.nics).toHaveLength(2);
  });

  it('the wizard still offers NAT (chosen by default) or Not attached; Not attached makes a machine without adapters', async () => {
    await page.getByRole('toolbar', { name: 'Machine actions' }).getByRole('button', { name: 'New' }).click();
    const wizard = page.getByRole('dialog', { name: 'New machine' });
    await wizard.getByLabel('Name').fill(OFFLINE);
    await wizard.getByRole('button', { name: 'Next' }).click();
    await wizard.getByRole('radio', { name: /Demo guest/ }).check();
    await wizard.getByRole('button', { name: 'Next' }).click();
    await wizard.getByLabel('Memory (MiB)').fill('256');
    expect(await wizard.getByRole('radio', { name: 'NAT' }).isChecked()).toBe(true);
    await wizard.getByRole('radio', { name: 'Not attached' }).check({ force: true });
    await wizard.getByRole('button', { name: 'Next' }).click();
    await wizard.getByText('Not attached').waitFor();
    await wizard.getByRole('button', { name: 'Create' }).click();
    await wizard.waitFor({ state: 'hidden', timeout: 60_000 });
    const listed = JSON.parse(await ok(served.sb, ['list', '--json'])) as { config: { name: string; nics: unknown[] } }[];
    expect(listed.find((m) => m.config.name === OFFLINE)?.config.nics).toEqual([]);
    await row(OFFLINE).click();
    const details = page.getByRole('region', { name: `Details of ${OFFLINE}` });
    await details
      .getByRole('row', { name: /Adapters\s*None/ })
      .or(details.getByText('None', { exact: true }))
      .first()
      .waitFor();
  });

  it('logged no page errors', () => {
    expect(pageProblems(page)).toEqual([]);
  });
});
