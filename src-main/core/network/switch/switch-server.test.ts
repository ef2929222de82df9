// The switch server with real unix sockets and fake QEMU clients, in this process.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SwitchServer, switchFiles } from './switch-server.js';
import { BROADCAST, FakeClient, ethernet, settle } from './testing.js';

const A = '52:54:00:00:00:0a';
const B = '52:54:00:00:00:0b';

let dir: string;
const servers: SwitchServer[] = [];
const clients: FakeClient[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmsw-'));
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function startSwitch(name: string, options: { idleMs?: number } = {}): Promise<string> {
  const socket = path.join(dir, `${name}.sock`);
  servers.push(await SwitchServer.start({ socket, name, ...options }));
  return socket;
}

async function connect(socket: string, n: number): Promise<FakeClient[]> {
  const made = await Promise.all(Array.from({ length: n }, () => FakeClient.connect(socket)));
  clients.push(...made);
  await settle(20);
  return made;
}

describe('internal network switch', () => {
  it('floods broadcast to every other client, then sends unicast only to the learned one', async () => {
    const [c1, c2, c3] = await connect(await startSwitch('lab'), 3);
    c1!.send(ethernet(BROADCAST, A, 'who-has'));
    await settle();
    expect(c1!.payloads()).toEqual([]);
    expect(c2!.payloads()).toEqual(['who-has']);
    expect(c3!.payloads()).toEqual(['who-has']);
    c2!.send(ethernet(A, B, 'is-at'));
    await settle();
    expect(c1!.payloads()).toEqual(['is-at']);
    expect(c3!.payloads()).toEqual(['who-has']);
    c1!.send(ethernet(B, A, 'data'));
    await settle();
    expect(c2!.payloads()).toEqual(['who-has', 'data']);
    expect(c3!.payloads()).toEqual(['who-has']);
  });

  it('keeps two networks apart', async () => {
    const [l1, l2] = await connect(await startSwitch('lab'), 2);
    const [o1] = await connect(await startSwitch('other'), 1);
    l1!.send(ethernet(BROADCAST, A, 'lab-only'));
    o1!.send(ethernet(BROADCAST, B, 'other-only'));
    await settle();
    expect(l2!.payloads()).toEqual(['lab-only']);
    expect(o1!.payloads()).toEqual([]);
    expect(l1!.payloads()).toEqual([]);
  });

  it('disconnects a client sending a malformed length, and only that one', async () => {
    const socket = await startSwitch('lab');
    const [bad, good1, good2] = await connect(socket, 3);
    bad!.socket.write(Buffer.from([0, 0, 0, 0]));
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(70_000);
    await settle();
    expect(bad!.closed).toBe(true);
    good2!.socket.write(huge);
    await settle();
    expect(good2!.closed).toBe(true);
    const [late] = await connect(socket, 1);
    good1!.send(ethernet(BROADCAST, A, 'still-here'));
    await settle();
    expect(late!.payloads()).toEqual(['still-here']);
    expect(good1!.closed).toBe(false);
  });

  it('survives a client vanishing in the middle of a frame', async () => {
    const socket = await startSwitch('lab');
    const [c1, c2] = await connect(socket, 2);
    const raw = net.createConnection(socket);
    await new Promise((r) => raw.once('connect', r));
    const frame = Buffer.alloc(4 + 1000);
    frame.writeUInt32BE(1000);
    raw.write(frame.subarray(0, 300));
    await settle(20);
    raw.destroy();
    await settle(20);
    c1!.send(ethernet(BROADCAST, A, 'after'));
    await settle();
    expect(c2!.payloads()).toEqual(['after']);
  });

  it('refuses a second switch for the same network', async () => {
    const socket = await startSwitch('lab');
    await expect(SwitchServer.start({ socket, name: 'lab' })).rejects.toMatchObject({ code: 'LOCKED' });
    expect(fs.statSync(socket).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(switchFiles(socket).pid, 'utf8'))).toMatchObject({ pid: process.pid });
  });

  it('exits when the last client has been gone a while, removing its socket and pid file', async () => {
    const socket = await startSwitch('lab', { idleMs: 300 });
    const server = servers[0]!;
    const [c1] = await connect(socket, 1);
    await settle(500);
    expect(fs.existsSync(socket)).toBe(true);
    c1!.close();
    await settle(100);
    expect(fs.existsSync(socket)).toBe(true);
    await server.closed;
    expect(fs.existsSync(socket)).toBe(false);
    expect(fs.existsSync(switchFiles(socket).pid)).toBe(false);
  });
});
