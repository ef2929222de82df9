import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitForLogText } from './serial-log.js';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vmdesk-log-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('waitForLogText', () => {
  it('finds text split across writes, only after the start offset', async () => {
    const file = path.join(dir, 'serial.log');
    await fs.writeFile(file, 'old boot: login ok\n');
    const start = (await fs.stat(file)).size;
    const waiting = waitForLogText(file, start, 'login ok', { timeoutMs: 3000 });
    await new Promise((r) => setTimeout(r, 50));
    await fs.appendFile(file, 'new boot... log');
    await new Promise((r) => setTimeout(r, 50));
    await fs.appendFile(file, 'in ok\n');
    await expect(waiting).resolves.toBeUndefined();
  });

  it('times out with a clear error, and notices a stopped machine', async () => {
    const file = path.join(dir, 'serial.log');
    await expect(waitForLogText(file, 0, 'never', { timeoutMs: 200 })).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: '"never" did not appear within 0 s; the console printed nothing',
    });
    // What the guest said last is in the error, without its terminal escapes.
    await fs.writeFile(file, 'booting\r\n\x1b[1;31mKernel panic - not syncing: VFS\x1b[0m\r\n\r\n');
    await expect(waitForLogText(file, 0, 'never', { timeoutMs: 200 })).rejects.toMatchObject({
      message: `"never" did not appear within 0 s; the console's last line: Kernel panic - not syncing: VFS`,
    });
    await fs.writeFile(file, 'x');
    await expect(waitForLogText(file, 0, 'never', { timeoutMs: 2000, isRunning: () => false })).rejects.toMatchObject({
      code: 'INVALID_STATE',
    });
  });
});
