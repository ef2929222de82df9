/**
 * What the accessibility tests share (a11y.test.ts: the stopped guest's views; a11y-running.test.ts:
 * the running guest's and the second host's): the demo guest with a snapshot, served by `vmdesk
 * serve` (with the second host in its ssh_config when asked for), a page whose context bypasses the
 * CSP to inject axe-core, and the scan in both themes that keeps every finding and returns the
 * critical and serious ones. The hooks are registered by a11yKit, inside the test file's describe.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { makeSandbox } from '../src-main/integration/harness.js';
import { sshHostUnavailable, startSshHost, type SshHost } from '../src-main/integration/ssh-host.js';
import { axeBothThemes, describeFindings, severe, type Finding } from './axe.js';
import { launchBrowser, ok, openUi, serve, stopServed, type Served } from './harness.js';

export const NAME = 'a11y demo';
export const SNAP = 'Clean install';
export const GUEST_TIMEOUT = 120_000;
/**
 * Pictures of every scanned view in both themes, to look at (not compared), when
 * VMDESK_E2E_A11Y_PICTURES is set: 80 screenshots cost the suite half a minute.
 */
const LOOK = process.env.VMDESK_E2E_A11Y_PICTURES ? path.join(os.tmpdir(), 'vmdesk-e2e-a11y') : null;
export const noSshHost = sshHostUnavailable();

export interface A11yKit {
  readonly page: Page;
  readonly context: BrowserContext;
  /** The second host, when asked for and available. */
  readonly host: SshHost | undefined;
  toolbar: () => Locator;
  row: () => Locator;
  dialog: (name: string | RegExp) => Locator;
  /** Scans `p` as it is now in both themes, pictures included; returns the critical and serious findings. */
  scan: (where: string, p?: Page) => Promise<Finding[]>;
  /** Fails with the readable list of what came back. */
  expectNone: (found: Finding[]) => void;
  closeDialog: (d: Locator) => Promise<void>;
}

export function a11yKit(options: { sshHost: boolean }): A11yKit {
  let served: Served;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let host: SshHost | undefined;
  /** Every finding, printed at the end (moderate and minor ones are not failed on). */
  const everything: Finding[] = [];

  const kit: A11yKit = {
    get page() {
      return page;
    },
    get context() {
      return context;
    },
    get host() {
      return host;
    },
    toolbar: () => page.getByRole('toolbar', { name: 'Machine actions' }),
    row: () => page.getByRole('option', { name: new RegExp(`^${NAME}, `) }),
    dialog: (name) => page.getByRole('dialog', { name }),
    scan: async (where, p = page) => {
      // A page behind another draws nothing (its screenshot waits forever): the console window is a second page.
      await p.bringToFront();
      // A toast fading out is drawn half-transparent: axe would measure the fade, not its colours.
      await expect.poll(() => p.locator('.el-message').count(), { timeout: 10_000 }).toBe(0);
      const found = await axeBothThemes(p, where, async (theme) => {
        if (!LOOK) return;
        fs.mkdirSync(LOOK, { recursive: true });
        await p.screenshot({ path: path.join(LOOK, `${where.replace(/[^\w-]+/g, '_')}-${theme}.png`) });
      });
      everything.push(...found);
      return severe(found);
    },
    expectNone: (found) => {
      expect(found, `axe found ${found.length} critical or serious violation(s):\n${describeFindings(found)}`).toEqual([]);
    },
    closeDialog: async (d) => {
      await page.keyboard.press('Escape');
      await d.waitFor({ state: 'hidden' });
    },
  };

  beforeAll(async () => {
    const sb = makeSandbox();
    await ok(sb, ['create', NAME, '--demo', '--memory', '128', '--notes', 'A demo guest for the accessibility scan']);
    await ok(sb, ['snapshot', NAME, 'take', SNAP, '--description', 'Before anything']);
    if (options.sshHost && !noSshHost) host = await startSshHost({ name: 'a11y' });
    served = await serve(host ? { ...sb, env: { ...sb.env, VMDESK_SSH_CONFIG: host.sshConfig } } : sb);
    browser = await launchBrowser();
    // axe-core is injected as an inline script, which the page's CSP refuses.
    ({ context, page } = await openUi(browser, served, { bypassCSP: true }));
    await kit.row().waitFor({ timeout: 30_000 });
  });

  // A test that failed half-way leaves no dialog open over the next one's.
  afterEach(async () => {
    for (let i = 0; i < 3 && (await page.getByRole('dialog').filter({ visible: true }).count()) > 0; i++)
      await page.keyboard.press('Escape');
  });

  afterAll(async () => {
    if (everything.length) console.log(`axe's findings:\n${describeFindings(everything)}`);
    await stopServed(browser, served, [NAME]);
    await served?.sb.cleanup();
    await host?.stop();
  });

  return kit;
}
