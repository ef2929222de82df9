// Changing a machine's boot files through a real core on a throw-away library: relative paths name
// files in the machine folder (as the config stores the demo guest's kernel), absolute ones stay so.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Core } from '../core.js';

let base: string;
let core: Core;
let dir: string;

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-modify-'));
  const env = { ...process.env, VMDESK_HOME: path.join(base, 'home'), VMDESK_RUNTIME_DIR: fs.mkdtempSync('/tmp/vmrt-') };
  core = new Core({ env });
  fs.writeFileSync(path.join(base, 'vmlinuz'), 'kernel');
  await core.create({ name: 'k', network: 'none', kernelBoot: { kernel: path.join(base, 'vmlinuz') } }).result;
  dir = (await core.get('k')).dir;
  fs.mkdirSync(path.join(dir, 'boot'));
  fs.writeFileSync(path.join(dir, 'boot', 'vmlinuz'), 'kernel in the folder');
});
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

describe('modify: boot files', () => {
  it('keeps a relative kernel path relative to the machine folder', async () => {
    const { config } = await core.modify('k', { kernelBoot: { kernel: 'boot/vmlinuz', cmdline: 'quiet' } });
    expect(config.kernelBoot).toEqual({ kernel: 'boot/vmlinuz', initrd: null, cmdline: 'quiet' });
  });

  it('refuses a relative path that is not in the machine folder, and changes nothing', async () => {
    await expect(core.modify('k', { kernelBoot: { kernel: 'boot/missing' } })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await core.get('k')).config.kernelBoot?.kernel).toBe('boot/vmlinuz');
  });

  it('stores an absolute path normalised', async () => {
    const { config } = await core.modify('k', { kernelBoot: { kernel: `${base}/./vmlinuz` } });
    expect(config.kernelBoot?.kernel).toBe(path.join(base, 'vmlinuz'));
  });
});
