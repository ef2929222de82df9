import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QmpClient, type QmpEvent } from './qmp-client.js';

const GREETING = {
  QMP: { version: { qemu: { micro: 22, minor: 2, major: 7 }, package: 'Debian 1:7.2+dfsg-7' }, capabilities: ['oob'] },
};

interface Command {
  execute: string;
  arguments?: Record<string, unknown>;
  id?: unknown;
}

/** A fake QEMU monitor: greets, accepts qmp_capabilities, and hands every other command to `onCommand`. */
class FakeQmp {
  readonly server: net.Server;
  readonly commands: Command[] = [];
  sockets: net.Socket[] = [];
  onCommand: (cmd: Command, socket: net.Socket) => void = (cmd, socket) => reply(socket, { return: {}, id: cmd.id });
  greeting: string = `${JSON.stringify(GREETING)}\r\n`;

  constructor(readonly socketPath: string) {
    this.server = net.createServer((socket) => {
      this.sockets.push(socket);
      socket.on('error', () => undefined);
      if (this.greeting) socket.write(this.greeting);
      let buf = '';
      socket.on('data', (d) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const cmd = JSON.parse(buf.slice(0, nl)) as Command;
          buf = buf.slice(nl + 1);
          this.commands.push(cmd);
          if (cmd.execute === 'qmp_capabilities') reply(socket, { return: {}, id: cmd.id });
          else this.onCommand(cmd, socket);
        }
      });
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.socketPath, resolve));
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

function reply(socket: net.Socket, msg: unknown): void {
  socket.write(`${JSON.stringify(msg)}\r\n`);
}

let dir: string;
let fake: FakeQmp;
let client: QmpClient | null;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vmdesk-qmp-'));
  fake = new FakeQmp(path.join(dir, 'qmp.sock'));
  await fake.listen();
  client = null;
});

afterEach(async () => {
  client?.close();
  await fake.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

async function connect(): Promise<QmpClient> {
  client = await QmpClient.connect(fake.socketPath, { timeoutMs: 2_000 });
  return client;
}

describe('QmpClient handshake', () => {
  it('reads the greeting and negotiates capabilities', async () => {
    const qmp = await connect();
    expect(qmp.greeting).toEqual({ version: '7.2.22', package: 'Debian 1:7.2+dfsg-7', capabilities: ['oob'] });
    expect(fake.commands[0]?.execute).toBe('qmp_capabilities');
  });

  it('retries a missing socket until retryUntil, then connects', async () => {
    const late = new FakeQmp(path.join(dir, 'late.sock'));
    setTimeout(() => void late.listen(), 200);
    const started = Date.now();
    const qmp = await QmpClient.connect(late.socketPath, { retryUntil: Date.now() + 5_000, timeoutMs: 2_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(qmp.greeting.version).toBe('7.2.22');
    qmp.close();
    await late.stop();
  });

  it('fails at once on a missing socket without retryUntil, and with TIMEOUT after retrying', async () => {
    await expect(QmpClient.connect(path.join(dir, 'none.sock'))).rejects.toMatchObject({ code: 'QEMU_FAILED' });
    const started = Date.now();
    await expect(QmpClient.connect(path.join(dir, 'none.sock'), { retryUntil: Date.now() + 300 })).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringContaining('none.sock'),
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('times out when no greeting comes', async () => {
    fake.greeting = '';
    await expect(QmpClient.connect(fake.socketPath, { timeoutMs: 200 })).rejects.toMatchObject({ code: 'TIMEOUT' });
  });
});

describe('QmpClient commands', () => {
  it('sends unique ids with arguments and resolves the return value', async () => {
    fake.onCommand = (cmd, s) => reply(s, { return: { echo: cmd.arguments, name: cmd.execute }, id: cmd.id });
    const qmp = await connect();
    await expect(qmp.execute('human-monitor-command', { 'command-line': 'info version' })).resolves.toEqual({
      echo: { 'command-line': 'info version' },
      name: 'human-monitor-command',
    });
    await qmp.execute('cont');
    const ids = fake.commands.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(fake.commands[2]).not.toHaveProperty('arguments');
  });

  it('matches pipelined replies by id even when answered out of order', async () => {
    const held: Command[] = [];
    fake.onCommand = (cmd, s) => {
      held.push(cmd);
      if (held.length === 3) for (const c of held.reverse()) reply(s, { return: c.execute, id: c.id });
    };
    const qmp = await connect();
    const results = await Promise.all([qmp.execute('a'), qmp.execute('b'), qmp.execute('c')]);
    expect(results).toEqual(['a', 'b', 'c']);
  });

  it('handles messages split across chunks and several messages in one chunk', async () => {
    const events: string[] = [];
    fake.onCommand = (cmd, s) => {
      const text =
        `${JSON.stringify({ event: 'STOP', timestamp: { seconds: 1, microseconds: 2 } })}\r\n` +
        `${JSON.stringify({ return: { status: 'paused', note: 'ü€' }, id: cmd.id })}\r\n` +
        `${JSON.stringify({ event: 'RESUME', timestamp: { seconds: 3, microseconds: 4 } })}\r\n`;
      const bytes = Buffer.from(text);
      // Byte by byte, so multi-byte UTF-8 characters are split too.
      let i = 0;
      const drip = (): void => {
        if (i >= bytes.length) return;
        s.write(bytes.subarray(i, i + 1));
        i += 1;
        setImmediate(drip);
      };
      drip();
    };
    const qmp = await connect();
    qmp.on('event', (e) => events.push(e.event));
    await expect(qmp.execute('query-status')).resolves.toEqual({ status: 'paused', note: 'ü€' });
    await expect.poll(() => events).toEqual(['STOP', 'RESUME']);
  });

  it('ignores garbage lines and replies with unknown ids', async () => {
    fake.onCommand = (cmd, s) => {
      s.write('this is not json\r\n[1,2]\r\n{"return": {}, "id": 99999}\r\n{"broken": \r\n');
      reply(s, { return: 42, id: cmd.id });
    };
    const qmp = await connect();
    await expect(qmp.execute('x')).resolves.toBe(42);
  });

  it('rejects QMP errors with QEMU_FAILED, the command, the description and the class', async () => {
    fake.onCommand = (cmd, s) =>
      reply(s, { error: { class: 'CommandNotFound', desc: `The command ${cmd.execute} has not been found` }, id: cmd.id });
    const qmp = await connect();
    await expect(qmp.execute('nope')).rejects.toMatchObject({
      code: 'QEMU_FAILED',
      message: 'nope: The command nope has not been found',
      details: { class: 'CommandNotFound' },
    });
  });

  it('times out a command that gets no reply, and drops the late reply', async () => {
    const lateReplies: Array<() => void> = [];
    fake.onCommand = (cmd, s) => {
      if (cmd.execute === 'slow') lateReplies.push(() => reply(s, { return: 'late', id: cmd.id }));
      else reply(s, { return: 'ok', id: cmd.id });
    };
    const qmp = await connect();
    await expect(qmp.execute('slow', undefined, { timeoutMs: 100 })).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringContaining('slow'),
    });
    expect(lateReplies).toHaveLength(1);
    for (const send of lateReplies) send();
    await expect(qmp.execute('fast')).resolves.toBe('ok');
  });
});

describe('QmpClient events and close', () => {
  it('emits every event with data and timestamp', async () => {
    fake.onCommand = (cmd, s) => {
      reply(s, { timestamp: { seconds: 10, microseconds: 20 }, event: 'SHUTDOWN', data: { guest: false, reason: 'host-qmp-quit' } });
      reply(s, { return: {}, id: cmd.id });
    };
    const qmp = await connect();
    const events: QmpEvent[] = [];
    qmp.on('event', (e) => events.push(e));
    await qmp.execute('quit');
    expect(events).toEqual([
      { event: 'SHUTDOWN', data: { guest: false, reason: 'host-qmp-quit' }, timestamp: { seconds: 10, microseconds: 20 } },
    ]);
  });

  it('rejects pending commands and emits close once when QEMU goes away', async () => {
    fake.onCommand = (_cmd, s) => setTimeout(() => s.destroy(), 50);
    const qmp = await connect();
    let closes = 0;
    qmp.on('close', () => closes++);
    const a = qmp.execute('a');
    const b = qmp.execute('b');
    await expect(a).rejects.toMatchObject({ code: 'QEMU_FAILED', message: 'a: QEMU closed the monitor connection' });
    await expect(b).rejects.toMatchObject({ code: 'QEMU_FAILED' });
    await expect(qmp.execute('c')).rejects.toMatchObject({ code: 'QEMU_FAILED', message: expect.stringContaining('closed') });
    await new Promise((r) => setTimeout(r, 50));
    expect(closes).toBe(1);
    expect(qmp.isClosed).toBe(true);
  });

  it('close() rejects pending commands and emits close once', async () => {
    fake.onCommand = () => undefined;
    const qmp = await connect();
    let closes = 0;
    qmp.on('close', () => closes++);
    const pending = qmp.execute('hang');
    qmp.close();
    qmp.close();
    await expect(pending).rejects.toMatchObject({ code: 'QEMU_FAILED', message: expect.stringContaining('closed') });
    await new Promise((r) => setTimeout(r, 50));
    expect(closes).toBe(1);
  });
});

describe('QmpClient against a monitor that never ends its line', () => {
  it('closes the connection past 16 MiB instead of buffering without bound', async () => {
    const c = await connect();
    fake.onCommand = () => undefined; // the answer never comes: only an endless line
    const pending = c.execute('query-status', undefined, { timeoutMs: 30_000 });
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    const socket = fake.sockets[0];
    if (!socket) throw new Error('no monitor connection');
    const chunk = 'x'.repeat(1024 * 1024);
    for (let i = 0; i < 17; i++) socket.write(chunk);
    await closed;
    await expect(pending).rejects.toMatchObject({ code: 'QEMU_FAILED' });
    expect(c.isClosed).toBe(true);
  });
});
