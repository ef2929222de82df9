// QEMU outlives its managers: kill -9 of a core, of an agent, and of QEMU itself.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, makeSandbox, ok, type Sandbox } from './harness.js';

const PROMPT = 'vmdesk-demo# ';
let sb: Sandbox;

interface Shown {
  uuid: string;
  status: { state: string; reason?: string; logTail?: string; orphaned?: boolean; qemuPid?: number };
}

async function show(name: string): Promise<Shown> {
  return JSON.parse(await ok(sb, ['show', name, '--json'])) as Shown;
}

function pidOf(uuid: string, file: 'agent.pid' | 'qemu.pid'): number {
  return Number(fs.readFileSync(path.join(sb.runtime, uuid, file), 'utf8').trim());
}

async function answers(name: string, n: number): Promise<void> {
  await ok(sb, ['send', name, `echo answer-$((${n}+1))\\n`]);
  await ok(sb, ['wait', name, '--text', `answer-${n + 1}`, '--timeout', '30']);
}

beforeAll(async () => {
  sb = makeSandbox();
  await ok(sb, ['create', 'a', '--demo']);
  await ok(sb, ['create', 'b', '--demo']);
});
afterAll(async () => {
  await sb.cleanup();
});

describe('re-adoption', () => {
  it('VMs started by a core keep running when it is killed -9, and a new core drives them', async () => {
    // A long-lived core (as the desktop app or `vmdesk serve` would be) starts both machines.
    const script = `
      const { Core } = await import(${JSON.stringify(path.join(ROOT, 'dist/main/core/core.js'))});
      const core = new Core();
      await core.watch();
      await core.start('a');
      await core.start('b');
      process.stdout.write('started\\n');
      setInterval(() => {}, 1000);
    `;
    const core = spawn(process.execPath, ['--input-type=module', '-e', script], { env: sb.env, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      core.stdout.on('data', (d: Buffer) => d.toString().includes('started') && resolve());
      core.on('exit', (code) => reject(new Error(`core exited ${code}`)));
    });
    core.kill('SIGKILL');
    await new Promise((r) => core.on('exit', r));

    for (const name of ['a', 'b']) {
      expect((await show(name)).status.state).toBe('running');
      await ok(sb, ['wait', name, '--text', PROMPT, '--timeout', '90']);
      await answers(name, 41);
    }
  });

  it('a QEMU whose agent was killed -9 is re-adopted (pid + cmdline check, QMP reconnect)', async () => {
    const { uuid } = await show('a');
    const qemuPid = pidOf(uuid, 'qemu.pid');
    const agentPid = pidOf(uuid, 'agent.pid');
    process.kill(agentPid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    const orphan = await show('a');
    expect(orphan.status).toMatchObject({ state: 'running', orphaned: true });
    // Any access re-adopts: the console answers, with the same QEMU process.
    await answers('a', 99);
    expect(pidOf(uuid, 'agent.pid')).not.toBe(agentPid);
    expect(pidOf(uuid, 'qemu.pid')).toBe(qemuPid);
    expect((await show('a')).status.orphaned).toBeUndefined();
    // The scrollback of the new agent starts at this boot, rebuilt from QEMU's own serial log.
    await ok(sb, ['pause', 'a']);
    expect((await show('a')).status.state).toBe('paused');
    await ok(sb, ['resume', 'a']);
    expect(await ok(sb, ['stop', 'a'])).toContain('a is stopped');
    expect((await show('a')).status.state).toBe('stopped');
  });

  it('a QEMU that dies is reported as crashed, with the tail of its log', async () => {
    const { uuid } = await show('b');
    process.kill(pidOf(uuid, 'qemu.pid'), 'SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    const crashed = await show('b');
    expect(crashed.status.state).toBe('crashed');
    expect(crashed.status.reason).toBe('QEMU was killed by SIGKILL');
    expect(crashed.status.logTail).toContain('VMDesk starting');
    const human = await ok(sb, ['show', 'b']);
    expect(human).toContain('State:       crashed (QEMU was killed by SIGKILL)');
    // A crashed machine can be started again.
    await ok(sb, ['start', 'b']);
    await ok(sb, ['wait', 'b', '--text', PROMPT, '--timeout', '90']);
    await ok(sb, ['stop', 'b', '--force']);
  });
});
