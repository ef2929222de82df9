import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, processStartTime } from './lock-file.js';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vmdesk-lock-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('acquireLock', () => {
  it('is exclusive while held and free after release', async () => {
    const file = path.join(dir, 'x.lock');
    const first = await acquireLock(file, 'starting web');
    await expect(acquireLock(file, 'deleting web', 200)).rejects.toMatchObject({
      code: 'LOCKED',
      message: expect.stringContaining('starting web'),
    });
    await first.release();
    const second = await acquireLock(file, 'deleting web', 200);
    await second.release();
    await expect(fs.stat(file)).rejects.toThrow();
  });

  it('takes over a lock left by a dead process', async () => {
    const file = path.join(dir, 'x.lock');
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid ?? 0;
    await new Promise((resolve) => child.on('exit', resolve));
    await fs.writeFile(file, JSON.stringify({ pid, start: '1', purpose: 'crashed' }));
    const lock = await acquireLock(file, 'recovering', 500);
    expect(JSON.parse(await fs.readFile(file, 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  it('does not mistake a recycled pid for the owner', async () => {
    const file = path.join(dir, 'x.lock');
    await fs.writeFile(file, JSON.stringify({ pid: process.pid, start: 'not-my-start-time', purpose: 'old' }));
    const lock = await acquireLock(file, 'new', 500);
    await lock.release();
    expect(processStartTime(process.pid)).toMatch(/^\d+$/);
  });

  it('waits for a live owner that lets go', async () => {
    const file = path.join(dir, 'x.lock');
    const first = await acquireLock(file, 'busy');
    setTimeout(() => void first.release(), 100);
    const second = await acquireLock(file, 'next', 2000);
    await second.release();
  });
});
