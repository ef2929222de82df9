// QEMU outlives its managers: kill -9 of a core, of an agent, and of QEMU itself.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, eventually, makeSandbox, ok, type Sandbox } from './harness.js';

const PROMPT = 'vmdesk-demo# ';
/** Output of an earlier boot in a's serial.log: a re-adopted console must not replay it. */
const EARLIER_BOOT = 'output-of-an-earlier-boot';
let sb: Sandbox;
let aSerialLog: string;

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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** What console.sock serves a new viewer (scrollback first), read until `until` shows in it. */
async function consoleText(uuid: string, until: string): Promise<string> {
  const socket = net.createConnection(path.join(sb.runtime, uuid, 'console.sock'));
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  try {
    await eventually(
      () => Promise.resolve(text),
      (t) => t.includes(until),
      15_000,
    );
    return text;
  } finally {
    socket.destroy();
  }
}

async function answers(name: string, n: number): Promise<void> {
  await ok(sb, ['send', name, `echo answer-$((${n}+1))\\n`]);
  await ok(sb, ['wait', name, '--text', `answer-${n + 1}`, '--timeout', '30']);
}

beforeAll(async () => {
  sb = makeSandbox();
  await ok(sb, ['create', 'a', '--demo']);
  await ok(sb, ['create', 'b', '--demo']);
  const { dir } = JSON.parse(await ok(sb, ['show', 'a', '--json'])) as { dir: string };
  aSerialLog = path.join(dir, 'logs', 'serial.log');
  fs.mkdirSync(path.dirname(aSerialLog), { recursive: true });
  fs.writeFileSync(aSerialLog, `${EARLIER_BOOT}\r\n${PROMPT}`);
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
    await eventually(
      () => Promise.resolve(alive(agentPid)),
      (a) => !a,
      10_000,
    );
    const orphan = await show('a');
    expect(orphan.status).toMatchObject({ state: 'running', orphaned: true });
    // Any access re-adopts: the console answers, with the same QEMU process.
    await answers('a', 99);
    expect(pidOf(uuid, 'agent.pid')).not.toBe(agentPid);
    expect(pidOf(uuid, 'qemu.pid')).toBe(qemuPid);
    expect((await show('a')).status.orphaned).toBeUndefined();
    // The new agent's scrollback is rebuilt from QEMU's own serial log, from this boot on: it holds
    // the boot and what the guest printed to the killed agent, and nothing of the earlier boot.
    const served = await consoleText(uuid, 'answer-100');
    expect(served).toContain('VMDesk demo guest ready');
    expect(served).toMatch(/\nanswer-42\r?\n[^]*\nanswer-100\r?\n/);
    expect(served).not.toContain(EARLIER_BOOT);
    expect(fs.readFileSync(aSerialLog, 'latin1')).toContain(EARLIER_BOOT);
    await ok(sb, ['pause', 'a']);
    expect((await show('a')).status.state).toBe('paused');
    await ok(sb, ['resume', 'a']);
    expect(await ok(sb, ['stop', 'a'])).toContain('a is stopped');
    expect((await show('a')).status.state).toBe('stopped');
  });

  it('a serial connection QEMU drops is taken again by the agent; what was typed meanwhile reaches the guest', async () => {
    const { uuid } = await show('b');
    const { dir } = JSON.parse(await ok(sb, ['show', 'b', '--json'])) as { dir: string };
    const runtime = path.join(sb.runtime, uuid);
    const { AgentClient } = await import('../core/agent/agent-client.js');
    const client = await AgentClient.connect(path.join(runtime, 'agent.sock'));
    // QEMU's serial0 moved to another socket (its old one, and the agent's connection, closed), then
    // back to serial.sock: as a chardev whose client went away listens again.
    const serialAt = (socket: string): Promise<unknown> =>
      client.qmp('chardev-change', {
        id: 'serial0',
        backend: {
          type: 'socket',
          data: {
            addr: { type: 'unix', data: { path: path.join(runtime, socket) } },
            server: true,
            wait: false,
            logfile: path.join(dir, 'logs', 'serial.log'),
            logappend: true,
          },
        },
      });
    try {
      await serialAt('serial-aside.sock');
      await ok(sb, ['send', 'b', 'echo meanwhile-$((20+1))\\n']);
      await serialAt('serial.sock');
    } finally {
      client.close();
    }
    await ok(sb, ['wait', 'b', '--text', 'meanwhile-21', '--timeout', '30']);
    await answers('b', 60);
    expect(fs.readFileSync(path.join(dir, 'logs', 'agent.log'), 'utf8')).toContain('the serial connection to QEMU closed; reconnecting');
  });

  it('a QEMU that dies is reported as crashed, with the tail of its log', async () => {
    const { uuid } = await show('b');
    process.kill(pidOf(uuid, 'qemu.pid'), 'SIGKILL');
    // The agent records the exit and goes: wait for that rather than for a fixed time.
    const crashed = await eventually(
      () => show('b'),
      (m) => m.status.state === 'crashed',
      30_000,
    );
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
