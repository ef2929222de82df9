// Closing the app with machines running (src-main/electron/quit-decision.ts), without Electron: the
// app's own decision code against a real core and real running machines — a demo guest that obeys
// ACPI, a paused one, and a guest that ignores the power button (SeaBIOS with nothing to boot).
// "Keep them running" leaves them to run on after the app's core is gone; "Shut them down" stops
// the obedient ones by ACPI and powers off the deaf one.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Core } from '../core/core.js';
import { CoreService } from '../core/service.js';
import { activeMachines, powerOffAll, quitQuestion, shutdownAll } from '../electron/quit-decision.js';
import { ROOT, guestSays, makeSandbox, ok, type Sandbox } from './harness.js';

const PROMPT = 'vmdesk-demo# ';
let sb: Sandbox;
let api: CoreService;

async function states(): Promise<Record<string, string>> {
  const list = await api.listMachines();
  return Object.fromEntries(list.map((m) => [m.config?.name ?? m.uuid, m.status.state]));
}

beforeAll(async () => {
  sb = makeSandbox();
  api = new CoreService(new Core({ env: sb.env }));
  await ok(sb, ['create', 'polite', '--demo', '--memory', '128']);
  await ok(sb, ['create', 'napping', '--demo', '--memory', '128']);
  await ok(sb, ['create', 'deaf', '--memory', '64', '--network', 'none']);
  await ok(sb, ['create', 'off', '--memory', '64', '--network', 'none']);
});
afterAll(async () => {
  await sb.cleanup();
});

describe('quitting the app with machines running', () => {
  it('"Keep them running": the machines outlive the core of the app that started them', async () => {
    // The app's core, in a process of its own, starts two machines; then the app quits (its process ends).
    const script = `
      const { Core } = await import(${JSON.stringify(path.join(ROOT, 'dist/main/core/core.js'))});
      const core = new Core();
      await core.start('polite');
      await core.start('napping');
      process.exit(0);
    `;
    const app = spawn(process.execPath, ['--input-type=module', '-e', script], { env: sb.env, stdio: ['ignore', 'inherit', 'inherit'] });
    expect(await new Promise((r) => app.on('exit', r))).toBe(0);
    for (const name of ['polite', 'napping']) {
      await ok(sb, ['wait', name, '--text', PROMPT, '--timeout', '120']);
      expect(await guestSays(sb, name, 'echo still-$((40+2))', 'still-42', 30)).toBe('still-42');
    }
  });

  it('asks about exactly the machines whose QEMU runs, paused ones included', async () => {
    await ok(sb, ['start', 'deaf']);
    await ok(sb, ['pause', 'napping']);
    const active = activeMachines(await api.listMachines());
    expect(active.map((m) => [m.name, m.paused]).sort()).toEqual([
      ['deaf', false],
      ['napping', true],
      ['polite', false],
    ]);
    const question = quitQuestion(active);
    expect(question.message).toBe('3 virtual machines are still running.');
    for (const name of ['polite', 'napping', 'deaf']) expect(question.detail).toContain(name);
  });

  it('"Shut them down": ACPI stops the guests that obey (the paused one resumed first); the deaf one is powered off', async () => {
    const active = activeMachines(await api.listMachines());
    // The deaf guest takes all of the timeout: 12 s (not the app's 30 s) leaves the demo guests, which
    // power off within a few seconds of the ACPI request, room under load.
    const report = await shutdownAll(api, active, 12_000);
    expect(report.stopped.sort()).toEqual(['napping', 'polite']);
    expect(report.unresponsive.map((m) => m.name)).toEqual(['deaf']);
    const after = await states();
    expect([after.polite, after.napping, after.off]).toEqual(['stopped', 'stopped', 'stopped']);
    // Its QEMU still runs (the agent reports it running, or still stopping): it is still one to power off.
    expect(activeMachines(await api.listMachines()).map((m) => m.name)).toEqual(['deaf']);
    expect(await powerOffAll(api, report.unresponsive)).toEqual([]);
    expect(await states()).toEqual({ polite: 'stopped', napping: 'stopped', deaf: 'stopped', off: 'stopped' });
    expect(activeMachines(await api.listMachines())).toEqual([]);
  });
});
