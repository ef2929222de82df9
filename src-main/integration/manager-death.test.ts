// Every VMDesk process killed -9 under a running guest (as libvirt's daemon-restart tests,
// tp-libvirt restart_consist): `vmdesk serve`, a `vmdesk console`, the VM's agent and its internal
// network's switch die while a command typed into the console is still running in the guest. The
// command completes and its output is found afterwards (vmdesk log, a new console's scrollback), on
// the same QEMU, with machine.json untouched. An agent that cannot reattach (QMP socket removed or
// refusing) never leads to a second QEMU on the machine's disks: starts are refused, naming the pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isQemuOf } from '../core/agent/agent.js';
import { isProcessAlive } from '../core/fs/lock-file.js';
import { CLI, eventually, makeSandbox, ok, vmdesk, type Sandbox } from './harness.js';
import { openApi, serve } from './serve-api.js';

const PROMPT = 'vmdesk-demo# ';
let sb: Sandbox;
let uuid: string;
let dir: string;

interface Shown {
  uuid: string;
  dir: string;
  status: { state: string; qemuPid?: number; orphaned?: boolean; reason?: string };
}
async function show(): Promise<Shown> {
  return JSON.parse(await ok(sb, ['show', 'm', '--json'])) as Shown;
}

const runtimeFile = (name: string): string => path.join(sb.runtime, uuid, name);
const pidIn = (file: string): number => Number(fs.readFileSync(file, 'utf8').trim());

/** Every QEMU on this host started for the machine (its uuid on the command line). */
function qemusOfMachine(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((pid) => isQemuOf(pid, uuid));
}

const sha = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** A `vmdesk console m` with its stdin a pipe kept open: what it prints, and the process. */
function attachConsole(): { child: ChildProcess; out: () => string; connected: Promise<void> } {
  const child = spawn(process.execPath, [CLI, 'console', 'm'], { env: sb.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString('latin1')));
  const connected = new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('Connected to the serial console')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`vmdesk console exited ${String(code)}: ${err}`)));
  });
  return { child, out: () => out, connected };
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const ok_ = await eventually(
    () => Promise.resolve(check()),
    (v) => v,
    timeoutMs,
  );
  if (!ok_) throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  sb = makeSandbox();
  await ok(sb, ['create', 'm', '--demo']);
  // An internal adapter, so that a switch process runs for the machine too.
  await ok(sb, ['nic', 'm', '2', '--attach', 'internal:lab']);
  ({ uuid, dir } = await show());
  await ok(sb, ['start', 'm']);
  await ok(sb, ['wait', 'm', '--text', PROMPT, '--timeout', '90']);
});
afterAll(async () => {
  for (const pid of qemusOfMachine()) process.kill(pid, 'SIGKILL');
  await sb.cleanup();
});

describe('every VMDesk process killed -9 while a guest command runs', () => {
  it('the command completes; its output is in vmdesk log and a new console; same QEMU, machine.json untouched', async () => {
    const config = path.join(dir, 'machine.json');
    const configBefore = sha(config);
    const qemuPid = pidIn(runtimeFile('qemu.pid'));
    const served = await serve(sb);
    const viewer = attachConsole();
    await viewer.connected;
    const serialLog = path.join(dir, 'logs', 'serial.log');
    const from = fs.statSync(serialLog).size;
    const sinceTyped = (): string => fs.readFileSync(serialLog).subarray(from).toString('latin1');
    viewer.child.stdin?.write('sleep 4; echo DONE-$((6*7))\n');
    // The guest has the line (it echoed it) and is sleeping: now every VMDesk process goes.
    await until('the typed line in serial.log', () => sinceTyped().includes('echo DONE-'), 30_000);
    const switchPid = fs
      .readdirSync(path.join(sb.runtime, 'net'))
      .filter((f) => f.endsWith('.pid'))
      .map((f) => (JSON.parse(fs.readFileSync(path.join(sb.runtime, 'net', f), 'utf8')) as { pid: number }).pid);
    expect(switchPid).toHaveLength(1);
    const victims = [served.child.pid ?? 0, viewer.child.pid ?? 0, pidIn(runtimeFile('agent.pid')), ...switchPid];
    for (const pid of victims) process.kill(pid, 'SIGKILL');
    expect(sinceTyped(), 'killed before the command finished').not.toContain('DONE-42');
    await until('every VMDesk process gone', () => victims.every((p) => !isProcessAlive(p)), 10_000);

    // QEMU itself logs the serial port: the output arrives with no VMDesk process alive.
    await until('DONE-42 in serial.log', () => sinceTyped().includes('DONE-42'), 30_000);
    const after = await show();
    expect(after.status).toMatchObject({ state: 'running', qemuPid, orphaned: true });
    expect(await ok(sb, ['log', 'm'])).toContain('DONE-42');

    // A new serve and a new console: the console re-adopts QEMU and replays the output.
    const again = await serve(sb);
    const api = await openApi(again);
    const listed = (await api.call('getMachine', 'm')).result as { status: { state: string; qemuPid?: number } };
    expect(listed.status).toMatchObject({ state: 'running', qemuPid });
    const second = attachConsole();
    await second.connected;
    await until('DONE-42 in the new console', () => second.out().includes('DONE-42'), 20_000);
    second.child.stdin?.write('echo again-$((20+22))\n');
    await until('the new console answering', () => second.out().includes('again-42'), 30_000);
    second.child.kill('SIGKILL');
    api.close();
    again.child.kill('SIGKILL');

    expect(pidIn(runtimeFile('qemu.pid'))).toBe(qemuPid);
    expect((await show()).status).toMatchObject({ state: 'running', qemuPid });
    expect(qemusOfMachine()).toEqual([qemuPid]);
    expect(sha(config), 'machine.json byte-identical').toBe(configBefore);
  });
});

describe('an agent that cannot reattach', () => {
  /** From a fresh start: kill the agent, break QMP with `breakQmp`, then try to use and to start the machine. */
  async function unreachable(breakQmp: () => Promise<void> | void): Promise<void> {
    for (const pid of qemusOfMachine()) process.kill(pid, 'SIGKILL');
    await until('the QEMU of the previous test gone', () => qemusOfMachine().length === 0, 10_000);
    // Its agent, if it had one, records the end before the machine can start again.
    await eventually(show, (m) => m.status.state === 'crashed' || m.status.state === 'stopped', 10_000);
    await ok(sb, ['start', 'm']);
    const qemuPid = pidIn(runtimeFile('qemu.pid'));
    const agent = pidIn(runtimeFile('agent.pid'));
    process.kill(agent, 'SIGKILL');
    await until('the agent gone', () => !isProcessAlive(agent), 10_000);
    await breakQmp();
    for (const args of [
      ['send', 'm', 'echo hello\\n'],
      ['start', 'm'],
      ['start', 'm'],
      ['pause', 'm'],
    ]) {
      const r = await vmdesk(sb, args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(5);
      expect(r.stderr).toMatch(new RegExp(`pid ${qemuPid}`));
      expect(r.stderr).toMatch(/cannot reach|lost track/);
      expect(qemusOfMachine(), `after ${args.join(' ')}`).toEqual([qemuPid]);
    }
    expect((await show()).status).toMatchObject({ state: 'running', qemuPid, orphaned: true });
    expect(pidIn(runtimeFile('qemu.pid'))).toBe(qemuPid);
  }

  it('QMP socket removed: every start is refused naming the QEMU, which stays the only one', async () => {
    await unreachable(() => fs.rmSync(runtimeFile('qmp.sock')));
  });

  it('QMP socket refusing connections, then its pid file gone too: still refused, still one QEMU', async () => {
    // A socket file nobody listens on any more: connect() gets ECONNREFUSED.
    await unreachable(async () => {
      fs.rmSync(runtimeFile('qmp.sock'));
      const stale = net.createServer();
      await new Promise<void>((resolve) => stale.listen(runtimeFile('qmp.sock'), resolve));
      await new Promise((resolve) => {
        // Closing a unix server unlinks its file: take the file away first, put it back after.
        fs.renameSync(runtimeFile('qmp.sock'), runtimeFile('qmp.sock.keep'));
        stale.close(resolve);
      });
      fs.renameSync(runtimeFile('qmp.sock.keep'), runtimeFile('qmp.sock'));
    });
    // VMDesk loses the QEMU altogether (its pid file and state gone): the runtime dir says stopped,
    // and a start must still not launch a second QEMU on the disks.
    const qemuPid = pidIn(runtimeFile('qemu.pid'));
    for (const f of ['qemu.pid', 'state.json']) fs.rmSync(runtimeFile(f), { force: true });
    const r = await vmdesk(sb, ['start', 'm']);
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toMatch(new RegExp(`still runs in QEMU \\(pid ${qemuPid}\\)`));
    expect(qemusOfMachine()).toEqual([qemuPid]);
  });
});
