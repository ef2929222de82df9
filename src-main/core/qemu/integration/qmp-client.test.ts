// The QMP client against a real QEMU (TCG, started with -S and no devices: no guest needed).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QmpClient, type QmpEvent } from '../qmp-client.js';

let dir: string;
let qemu: ChildProcess;
let qemuStderr = '';
let qmp: QmpClient;
const events: QmpEvent[] = [];

function nextEvent(name: string, timeoutMs = 10_000): Promise<QmpEvent> {
  const seen = events.find((e) => e.event === name);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${name} event within ${timeoutMs} ms`)), timeoutMs);
    const onEvent = (e: QmpEvent): void => {
      if (e.event !== name) return;
      clearTimeout(timer);
      qmp.off('event', onEvent);
      resolve(e);
    };
    qmp.on('event', onEvent);
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-qmp-it-'));
  const sock = path.join(dir, 'qmp.sock');
  qemu = spawn(
    'qemu-system-x86_64',
    [
      '-accel',
      'tcg',
      '-machine',
      'q35',
      '-nodefaults',
      '-no-user-config',
      '-display',
      'none',
      '-S',
      '-m',
      '64',
      '-qmp',
      `unix:${sock},server=on,wait=off`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  qemu.stderr?.on('data', (d: Buffer) => (qemuStderr += d.toString()));
  qmp = await QmpClient.connect(sock, { retryUntil: Date.now() + 15_000, timeoutMs: 10_000 });
  qmp.on('event', (e) => events.push(e));
});

afterAll(() => {
  qmp?.close();
  if (qemu.exitCode === null && qemu.signalCode === null) qemu.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('QmpClient against QEMU', () => {
  it('reports the QEMU version from the greeting', () => {
    expect(qmp.greeting.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('sees a machine started with -S as paused in prelaunch', async () => {
    await expect(qmp.execute('query-status')).resolves.toMatchObject({ running: false, status: 'prelaunch' });
  });

  it('answers 100 sequential query-status round trips', async () => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < 100; i++) await qmp.execute('query-status');
    const avgMs = Number(process.hrtime.bigint() - started) / 1e6 / 100;
    console.log(`QMP query-status round trip: ${avgMs.toFixed(3)} ms average over 100 calls`);
    expect(avgMs).toBeLessThan(50);
  });

  it('pipelines commands', async () => {
    const results = await Promise.all([qmp.execute('query-status'), qmp.execute('query-name'), qmp.execute('query-kvm')]);
    expect(results[2]).toMatchObject({ enabled: false });
  });

  it('rejects an unknown command with its QMP error class', async () => {
    await expect(qmp.execute('no-such-command')).rejects.toMatchObject({ code: 'QEMU_FAILED', details: { class: 'CommandNotFound' } });
  });

  it('emits RESUME on cont and STOP on stop', async () => {
    await qmp.execute('cont');
    await nextEvent('RESUME');
    await expect(qmp.execute('query-status')).resolves.toMatchObject({ running: true, status: 'running' });
    await qmp.execute('stop');
    await nextEvent('STOP');
    await expect(qmp.execute('query-status')).resolves.toMatchObject({ running: false, status: 'paused' });
  });

  it('emits SHUTDOWN on quit, then close, and QEMU exits', async () => {
    const closed = new Promise<void>((resolve) => qmp.once('close', resolve));
    const exited = new Promise<number | null>((resolve) => qemu.once('exit', (code) => resolve(code)));
    // QEMU 7.2 answers quit, but sends the SHUTDOWN event before that reply: do not rely on the order.
    await expect(qmp.execute('quit')).resolves.toEqual({});
    const shutdown = await nextEvent('SHUTDOWN');
    expect(shutdown.data).toMatchObject({ guest: false, reason: 'host-qmp-quit' });
    await closed;
    expect(qmp.isClosed).toBe(true);
    expect(await exited).toBe(0);
    expect(qemuStderr).toBe('');
  });
});
