// Live migration of a machine with encrypted disks from the UI, in Chromium, to a second host (a real
// sshd in a network namespace): Machine › Migrate… says the passphrase will be asked; Migrate opens
// the password prompt, a wrong passphrase is said in it and nothing is made on lab, the right one
// starts the migration, and the machine runs on under lab, its disk images there encrypted.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { makeKeys, type Keys } from '../src-main/integration/encryption-helpers.js';
import { makeSandbox, skipBecause } from '../src-main/integration/harness.js';
import { sshHostUnavailable, startSshHost, type SshHost } from '../src-main/integration/ssh-host.js';
import { ok, pageProblems } from './harness.js';
import { addHost, hostRow, machineRow, menu, remoteMachine, serveWithHost, stopRemoteLab, type RemoteLab } from './remote-lab.js';

const NAME = 'safe';
const GUEST_TIMEOUT = 120_000;
const unavailable = sshHostUnavailable();

describe('live migration of an encrypted machine from the UI', () => {
  let host: SshHost;
  let lab: RemoteLab;
  let page: Page;
  let keys: Keys;

  const dialog = (): Locator => page.getByRole('dialog', { name: `Migrate ${NAME}` });
  const labFolder = (): string => path.join(host.remoteHome, 'machines', NAME);

  beforeAll(async () => {
    if (unavailable) return;
    host = await startSshHost({ name: 'lab' });
    const sb = makeSandbox();
    keys = makeKeys();
    const pass = ['--passphrase-file', keys.passFile];
    await ok(sb, ['create', NAME, '--demo', '--memory', '128', '--disk', '32M', '--encrypt', ...pass]);
    await ok(sb, ['start', NAME, ...pass], { timeoutMs: GUEST_TIMEOUT });
    lab = await serveWithHost(host, sb);
    page = lab.page;
  });

  afterAll(async () => {
    await stopRemoteLab({ ...lab, host }, [NAME]);
    if (keys) fs.rmSync(keys.dir, { recursive: true, force: true });
  });

  it('Migrate asks for the passphrase: a wrong one is said in the prompt and makes nothing on lab, the right one moves the machine, encrypted there', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    // lab's VMDesk makes LUKS headers with the tests' short key derivation too (src-main/integration/harness.ts).
    const add = await addHost(page, {
      ...host,
      remoteCommand: host.remoteCommand.replace(/^(\S+) /, '$1 VMDESK_TEST_LUKS_ITER_TIME_MS=50 '),
    });
    await add.getByTestId('host-key-question').waitFor({ timeout: 60_000 });
    await add.getByRole('button', { name: 'Trust and connect' }).click();
    await add.waitFor({ state: 'hidden', timeout: 60_000 });
    await expect.poll(() => hostRow(page).getAttribute('aria-label'), { timeout: 30_000 }).toMatch(/^Host lab, connected, /);

    await expect.poll(() => machineRow(page, NAME).getAttribute('aria-label'), { timeout: 30_000 }).toBe(`${NAME}, Running`);
    await machineRow(page, NAME).click();
    await menu(page, 'Machine', 'Migrate…');
    await dialog().waitFor();
    const preflight = dialog().getByTestId('migration-preflight');
    await preflight.getByText(`lab can take ${NAME}`).waitFor({ timeout: 60_000 });
    expect(await preflight.getByTestId('migration-encrypted').textContent()).toMatch(/passphrase is asked when the migration starts/);
    await dialog().getByRole('button', { name: 'Migrate', exact: true }).click();

    const prompt = page.getByRole('dialog', { name: `Unlock ${NAME} for lab` });
    await prompt.getByText('lab needs its passphrase').waitFor({ timeout: 30_000 });
    const field = prompt.getByPlaceholder('Passphrase');
    await field.fill('not the passphrase');
    await prompt.getByRole('button', { name: 'Migrate' }).click();
    await prompt.getByText(`Wrong passphrase for ${NAME}`).waitFor({ timeout: 60_000 });
    expect(fs.existsSync(labFolder())).toBe(false);
    expect(remoteMachine(host, NAME)).toBeUndefined();

    await field.fill(keys.passphrase);
    await prompt.getByRole('button', { name: 'Migrate' }).click();
    await prompt.waitFor({ state: 'hidden', timeout: 60_000 });
    await dialog().getByTestId('migration-summary').waitFor({ timeout: 240_000 });
    await expect.poll(() => machineRow(page, NAME).getAttribute('data-host'), { timeout: 30_000 }).toBe('lab');
    await expect.poll(() => machineRow(page, NAME).getAttribute('aria-label'), { timeout: 30_000 }).toBe(`${NAME}, Running`);
    expect(remoteMachine(host, NAME)?.status.state).toBe('running');
    const disks = path.join(labFolder(), 'disks');
    for (const file of fs.readdirSync(disks)) {
      const info = JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', path.join(disks, file)], { encoding: 'utf8' })) as {
        encrypted?: boolean;
      };
      expect(info.encrypted, file).toBe(true);
    }
    await dialog().getByRole('button', { name: 'Close', exact: true }).click();
  });

  it('logged no page errors', (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    expect(pageProblems(page)).toEqual([]);
  });
});
