/**
 * Remote hosts against a real OpenSSH server in a network namespace of its own (a second address,
 * a second library): the host added with its fingerprint confirmed, a demo guest created, started,
 * typed into, screenshotted, snapshotted there through `vmdesk serve`; the link killed under an open
 * console; and every bad input or fault refused with a clear error and nothing changed on either side.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PNG } from 'pngjs';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostManager } from '../core/hosts/host-manager.js';
import { eventually, makeSandbox, skipBecause, vmdesk, type Sandbox } from './harness.js';
import { openApi, serve, type ApiSocket, type Served } from './serve-api.js';
import { sshHostUnavailable, sshMasters, startSshHost, type SshHost } from './ssh-host.js';

const unavailable = sshHostUnavailable();
let host: SshHost;
let sb: Sandbox;
let env: NodeJS.ProcessEnv;
let served: Served | null = null;
let api: ApiSocket;

/** What a CLI run sees and changes on this computer: the hosts file and the known_hosts file. */
function localState(): string {
  const hostsFile = path.join(sb.home, 'hosts.json');
  return [fs.existsSync(hostsFile) ? fs.readFileSync(hostsFile, 'utf8') : '(none)', fs.readFileSync(host.knownHostsFile, 'utf8')].join(
    '\n--\n',
  );
}

/** The remote library's files, as the remote host sees them. */
function remoteState(): string {
  const run = host.ssh([`find ${host.remoteHome} -not -name '*.lock' | sort`]);
  return run.stdout;
}

function cli(args: string[], timeoutMs = 120_000): ReturnType<typeof vmdesk> {
  return vmdesk(sb, args, { env, timeoutMs });
}

const addArgs = (): string[] => ['lab', host.alias, '--remote-home', host.remoteHome, '--remote-command', host.remoteCommand];

type TaskInfo = { id: string; state: string; progress: number | null; result?: unknown; error?: { message: string } };

async function taskDone(task: TaskInfo, timeoutMs = 120_000): Promise<TaskInfo> {
  const end = await api.waitEvent(
    (e) => e.host === 'lab' && e.event === 'task' && (e.data as TaskInfo).id === task.id && (e.data as TaskInfo).state !== 'running',
    timeoutMs,
  );
  return end.data as TaskInfo;
}

/** A remote serial console through `vmdesk serve`'s stream URL; resolves once the guest answers. */
function openConsole(uuid: string): { ws: WebSocket; output: () => string; closed: Promise<{ code: number; reason: string }> } {
  const token = served?.url.searchParams.get('token') ?? '';
  const ws = new WebSocket(`ws://${served?.url.host}/host/lab/console/serial/${uuid}?token=${token}`, { origin: served?.url.origin });
  let text = '';
  ws.on('message', (d: Buffer) => (text += d.toString('utf8')));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return { ws, output: () => text, closed };
}

async function typeAndExpect(consoleWs: ReturnType<typeof openConsole>, line: string, answer: RegExp): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    consoleWs.ws.once('open', () => resolve());
    consoleWs.ws.once('error', reject);
    if (consoleWs.ws.readyState === WebSocket.OPEN) resolve();
  });
  const before = consoleWs.output().length;
  consoleWs.ws.send(`${line}\r`);
  await eventually(
    () => Promise.resolve(consoleWs.output().slice(before)),
    (t) => answer.test(t),
    30_000,
  );
}

beforeAll(async () => {
  if (unavailable) return;
  host = await startSshHost({ name: 'lab' });
  sb = makeSandbox();
  env = { ...sb.env, VMDESK_SSH_CONFIG: host.sshConfig };
});

afterAll(async () => {
  api?.close();
  served?.child.kill('SIGTERM');
  await sb?.cleanup();
  await host?.stop();
});

describe('remote hosts over SSH', () => {
  it('refuses an unknown host key until its fingerprint is confirmed, then adds the host', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    const before = localState();
    const refused = await cli(['hosts', 'add', ...addArgs()]);
    expect(refused.code).toBe(13);
    expect(refused.stderr).toContain(`The authenticity of host '${host.alias}' can't be established`);
    expect(refused.stderr).toContain(host.fingerprint);
    expect(localState()).toBe(before);

    const wrong = await cli(['hosts', 'add', ...addArgs(), '--accept-host-key', `SHA256:${'A'.repeat(43)}`]);
    expect(wrong.code).toBe(13);
    expect(wrong.stderr).toContain('not the key confirmed');
    expect(localState()).toBe(before);

    const added = await cli(['hosts', 'add', ...addArgs(), '--accept-host-key', host.fingerprint]);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/Added lab: VMDesk \d+\.\d+\.\d+/);
    expect(fs.readFileSync(host.knownHostsFile, 'utf8')).toMatch(/ssh-ed25519 /);
    const listed = JSON.parse((await cli(['hosts', 'list', '--json'])).stdout) as Array<{ name: string; destination: string }>;
    expect(listed).toEqual([expect.objectContaining({ name: 'lab', destination: host.alias })]);

    const tested = await cli(['hosts', 'test', 'lab', '--json']);
    expect(tested.code).toBe(0);
    const details = JSON.parse(tested.stdout) as { library: string; machines: number; accel: string };
    expect(details).toMatchObject({ library: host.remoteHome, machines: 0, accel: 'tcg' });
  });

  it("carries bulk streams (a migration's) on a second connection of their own, which ends with the first", async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    // The remote end: a unix socket on lab (which shares this computer's files) that echoes a line.
    const remote = path.join(sb.home, 'bulk-echo.sock');
    const echo = net.createServer((c) => c.once('data', (d: Buffer) => c.end(`echo ${d.toString()}`)));
    await new Promise<void>((resolve) => echo.listen(remote, resolve));
    const hosts = new HostManager({ home: sb.home, env });
    const sshOf = (): ReturnType<typeof sshMasters> => sshMasters(env.VMDESK_RUNTIME_DIR ?? '');
    try {
      await hosts.connect('lab', { bulk: true });
      const masters = await eventually(
        () => Promise.resolve(sshOf()),
        (list) => list.length === 2,
        20_000,
      );
      const main = masters.find(({ argv }) => argv.some((a) => a.endsWith("'stdio'")));
      const bulk = masters.find(({ argv }) => argv.some((a) => a.endsWith('/bulk')));
      expect(main, JSON.stringify(masters)).toBeDefined();
      expect(bulk, JSON.stringify(masters)).toBeDefined();
      expect(bulk?.argv.some((a) => a.includes('stdio'))).toBe(false);

      const local = await hosts.forwardPath('lab', remote);
      // The forwarded socket is the bulk connection's: its ssh listens on it.
      const listening =
        spawnSync('ss', ['-xlpn'], { encoding: 'utf8' })
          .stdout.split('\n')
          .find((l) => l.includes(local)) ?? '';
      expect(listening).toContain(`pid=${bulk?.pid},`);
      const answer = await new Promise<string>((resolve, reject) => {
        const c = net.createConnection(local, () => c.write('through the bulk link'));
        let text = '';
        c.on('data', (d: Buffer) => (text += d.toString()));
        c.on('close', () => resolve(text));
        c.on('error', reject);
      });
      expect(answer).toBe('echo through the bulk link');
    } finally {
      hosts.close();
      echo.close();
    }
    // Both connections end with the manager.
    await eventually(
      () => Promise.resolve(sshOf()),
      (list) => list.length === 0,
      10_000,
    );
  });

  it('drives a demo guest on the remote host through vmdesk serve: create, start, console, screenshot, snapshot', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    served = await serve({ ...sb, env });
    api = await openApi(served);
    const hosts = await eventually(
      () => api.call('listHosts'),
      (r) => (r.result as Array<{ name: string; state: string }>).some((h) => h.name === 'lab' && h.state === 'connected'),
      30_000,
    );
    expect((hosts.result as Array<{ name: string }>).map((h) => h.name)).toEqual(['local', 'lab']);

    const created = await api.callOn('lab', 'createMachine', { name: 'web', demo: true, memoryMiB: 128 });
    expect(created.error).toBeUndefined();
    const done = await taskDone(created.result as TaskInfo);
    expect(done.state).toBe('done');
    const uuid = (done.result as { uuid: string }).uuid;
    // It is the remote host's machine, in the remote library; none here.
    expect(fs.existsSync(path.join(host.remoteHome, 'machines', 'web', 'machine.json'))).toBe(true);
    expect(((await api.call('listMachines')).result as unknown[]).length).toBe(0);

    expect((await api.callOn('lab', 'startMachine', 'web')).error).toBeUndefined();
    await api.waitEvent((e) => e.host === 'lab' && e.event === 'machine-state' && (e.data as { uuid: string }).uuid === uuid, 30_000);
    const consoleWs = openConsole(uuid);
    await eventually(
      () => Promise.resolve(consoleWs.output()),
      (t) => t.includes('#'),
      60_000,
    );
    await typeAndExpect(consoleWs, 'echo $((6*7))', /\r?\n42\r?\n/);

    // The display: QEMU's VNC socket there, forwarded through the same SSH connection (RFB greets first).
    const token = served.url.searchParams.get('token') ?? '';
    const vnc = new WebSocket(`ws://${served.url.host}/host/lab/console/vnc/${uuid}?token=${token}`, { origin: served.url.origin });
    const banner = await new Promise<string>((resolve, reject) => {
      vnc.once('message', (d: Buffer) => resolve(d.toString('latin1')));
      vnc.once('error', reject);
    });
    expect(banner).toMatch(/^RFB 003\.00\d\n/);
    vnc.close();

    const shot = await api.callOn('lab', 'screenshot', 'web');
    const png = PNG.sync.read(Buffer.from((shot.result as { png: string }).png, 'base64'));
    expect(png.width).toBeGreaterThan(300);

    const snap = await api.callOn('lab', 'takeSnapshot', 'web', { name: 'before' });
    expect((await taskDone(snap.result as TaskInfo)).state).toBe('done');
    await typeAndExpect(consoleWs, 'touch /after-snapshot && ls /after-snapshot', /\r?\n\/after-snapshot\r?\n/);
    const restore = await api.callOn('lab', 'restoreSnapshot', 'web', 'before');
    expect((await taskDone(restore.result as TaskInfo)).state).toBe('done');
    const tree = await api.callOn('lab', 'listSnapshots', 'web');
    expect(JSON.stringify(tree.result)).toContain('"before"');
    consoleWs.ws.close();

    // Someone else starts a machine there: its state reaches this front end at once, tagged with the host.
    expect(host.ssh([`env VMDESK_HOME=${host.remoteHome} ${host.remoteCommand} create other --demo --memory 96`]).status).toBe(0);
    await api.waitEvent((e) => e.host === 'lab' && e.event === 'machines', 15_000);
    const seen = api.events.length;
    expect(host.ssh([`env VMDESK_HOME=${host.remoteHome} ${host.remoteCommand} start other`]).status).toBe(0);
    await api.waitEvent((e) => api.events.indexOf(e) >= seen && e.host === 'lab' && e.event === 'machine-state', 15_000);
    expect(host.ssh([`env VMDESK_HOME=${host.remoteHome} ${host.remoteCommand} stop other --force`]).status).toBe(0);
  });

  it('keeps the remote machine running when the SSH connection is killed under an open console, and reconnects', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    const machines = (await api.callOn('lab', 'listMachines')).result as Array<{
      uuid: string;
      config: { name: string };
      status: { state: string; qemuPid?: number };
    }>;
    const web = machines.find((m) => m.config.name === 'web');
    expect(web?.status.state).toBe('running');
    const consoleWs = openConsole(web?.uuid ?? '');
    await typeAndExpect(consoleWs, 'echo $((6*7))', /\r?\n42\r?\n/);

    expect(await host.killSessions()).toBeGreaterThan(0);
    const closed = await consoleWs.closed;
    expect(closed.code).toBe(4503);
    expect(closed.reason).toMatch(/connection to lab was lost/);
    // Its QEMU is the remote host's process: still there.
    expect(() => process.kill(web?.status.qemuPid ?? -1, 0)).not.toThrow();
    const failedCall = await api.callOn('lab', 'listMachines');
    if (failedCall.error) expect(failedCall.error.code).toBe('UNREACHABLE');

    await eventually(
      () => api.call('listHosts'),
      (r) => (r.result as Array<{ name: string; state: string }>).some((h) => h.name === 'lab' && h.state === 'connected'),
      30_000,
    );
    const again = openConsole(web?.uuid ?? '');
    await typeAndExpect(again, 'echo $((6*7))', /\r?\n42\r?\n/);
    again.ws.close();
    const stop = await api.callOn('lab', 'shutdownMachine', 'web', { force: true });
    expect(stop.error).toBeUndefined();
  });

  it('a cut link during a remote clone leaves the remote library with nothing half-made', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    // A disk with real data to copy: 384 MiB of random bytes imported on the remote host.
    const raw = path.join(host.remoteHome, 'data.raw');
    expect(spawnSync('dd', ['if=/dev/urandom', `of=${raw}`, 'bs=1M', 'count=384', 'status=none']).status).toBe(0);
    const made = await api.callOn('lab', 'createMachine', { name: 'big', importDisk: raw, memoryMiB: 64 });
    expect((await taskDone(made.result as TaskInfo)).state).toBe('done');
    fs.rmSync(raw);
    const before = remoteState();

    const clone = await api.callOn('lab', 'cloneMachine', 'big', { name: 'big-copy' });
    expect(clone.error).toBeUndefined();
    const task = clone.result as TaskInfo;
    await api.waitEvent((e) => e.host === 'lab' && e.event === 'task' && (e.data as TaskInfo).id === task.id, 30_000);
    await host.killSessions();
    // The front end learns the task's fate from the link's loss, not by waiting forever.
    const ended = await taskDone(task, 30_000);
    expect(ended.state).toBe('failed');
    expect(ended.error?.message).toMatch(/connection to lab was lost/);
    // The remote VMDesk of that session cancels its clone and exits; then the library is as before.
    await eventually(
      () => Promise.resolve(remoteState()),
      (s) => s === before,
      60_000,
    );
    expect(remoteState()).not.toMatch(/big-copy|\.staging-|\.deleting-/);
  });

  it('refuses bad destinations, logins, missing or old VMDesk, unwritable libraries and injected options, changing nothing', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    served?.child.kill('SIGTERM');
    const marker = path.join(host.dir, 'pwned');
    const local = localState();
    const remote = remoteState();
    const add = (args: string[]): ReturnType<typeof vmdesk> => cli(['hosts', 'add', ...args]);

    const unknown = await add(['nowhere', 'nowhere.invalid']);
    expect(unknown.code).toBe(12);
    expect(unknown.stderr).toMatch(/Unknown host nowhere\.invalid|Could not resolve/);

    // Another alias of the same address whose only key is not authorized there.
    const otherConfig = path.join(host.dir, 'ssh_config.other');
    fs.writeFileSync(
      otherConfig,
      `Host other\n  HostName ${host.address}\n  Port ${host.port}\n  User root\n  IdentityFile ${host.otherIdentity}\n  IdentitiesOnly yes\n` +
        `  UserKnownHostsFile ${host.knownHostsFile}\n  GlobalKnownHostsFile /dev/null\n  IdentityAgent none\n`,
    );
    const refused = await vmdesk(sb, ['hosts', 'add', 'other', 'other'], { env: { ...env, VMDESK_SSH_CONFIG: otherConfig } });
    expect(refused.code).toBe(12);
    expect(refused.stderr).toMatch(/refused the login \(.*Permission denied/);
    expect(refused.stderr).toMatch(/never asks for or stores a password/);

    const missing = await add(['novmdesk', host.alias, '--remote-command', '/nonexistent/vmdesk']);
    expect(missing.code).toBe(7);
    expect(missing.stderr).toMatch(/VMDesk is not installed on novmdesk/);

    const oldScript = path.join(host.dir, 'old-vmdesk.sh');
    fs.writeFileSync(
      oldScript,
      `#!/bin/sh\necho '{"hello":{"product":"vmdesk","version":"0.0.1","api":0,"oldestClientApi":0,"hostname":"old","home":"/tmp","writable":true}}'\ncat >/dev/null\n`,
      { mode: 0o755 },
    );
    const old = await add(['old', host.alias, '--remote-command', oldScript]);
    expect(old.code).toBe(7);
    expect(old.stderr).toMatch(/runs VMDesk 0\.0\.1.*upgrade VMDesk on old/);

    const readOnly = host.readOnlyDir();
    const unwritable = await add(['ro', host.alias, '--remote-home', readOnly, '--remote-command', host.remoteCommand]);
    expect(unwritable.code).toBe(10);
    expect(unwritable.stderr).toMatch(/library on ro .* is not writable/);

    for (const args of [
      ['evil', `-oProxyCommand=touch ${marker}`],
      ['evil', '--', `-oProxyCommand=touch ${marker}`],
      ['--', `-oProxyCommand=touch ${marker}`, host.alias],
      ['evil', `${host.alias} -oProxyCommand=touch ${marker}`],
    ]) {
      const injected = await add(args);
      expect(injected.code).toBe(2);
    }
    const viaHostOption = await cli(['--host', `-oProxyCommand=touch ${marker}`, 'list']);
    expect(viaHostOption.code).toBe(2);
    expect(fs.existsSync(marker)).toBe(false);

    expect(localState()).toBe(local);
    expect(remoteState()).toBe(remote);

    // Last: the host key changes. Refused with ssh's own words, by the CLI and by a new add.
    await host.changeHostKey();
    const changed = await cli(['hosts', 'test', 'lab']);
    expect(changed.code).toBe(13);
    expect(changed.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED/);
    const viaHost = await cli(['--host', 'lab', 'list']);
    expect(viaHost.code).toBe(13);
    expect(localState()).toBe(local);
  });
});
