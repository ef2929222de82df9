// `vmdesk serve` as a user runs it (the real CLI, on a free loopback port) in front of a sandbox
// library: access rules on real sockets, the /api socket creating and starting the demo guest, its
// serial console and VNC display over WebSockets, and a stop that leaves the machine running.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEMO_PROMPT } from '../core/demo/demo-guest.js';
import { CLI, makeSandbox, ok, type Sandbox } from './harness.js';

let sb: Sandbox;
let server: ChildProcess;
let output = '';
let origin: string;
let host: string;
let token: string;
let uuid: string;

beforeAll(async () => {
  sb = makeSandbox();
  // In a process group of its own, as in a terminal: Ctrl-C signals the whole group.
  server = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { env: sb.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  server.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  server.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vmdesk serve printed no URL:\n${output}`)), 30_000);
    server.stdout?.on('data', () => {
      const m = /^VMDesk is serving on (http:\/\/\S+)\n/.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(new URL(m[1]));
      }
    });
    server.on('exit', (code) => reject(new Error(`vmdesk serve exited ${code}:\n${output}`)));
  });
  origin = url.origin;
  host = url.host;
  token = url.searchParams.get('token') ?? '';
});
afterAll(async () => {
  if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  await sb.cleanup();
});

function request(path: string, headers: Record<string, string> = {}): Promise<http.IncomingMessage & { body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${origin}${path}`, { headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(Object.assign(res, { body })));
    });
    req.on('error', reject);
  });
}

/**
 * `onMessage` listens from the start: a server may send its first message right behind the
 * handshake, and ws emits it before a listener added after `open` resolves would be in place.
 */
function openWs(
  path: string,
  options: WebSocket.ClientOptions = {},
  protocols: string[] = [],
  onMessage?: (data: Buffer) => void,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${host}${path}`, protocols, options);
    if (onMessage) ws.on('message', onMessage);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

interface Api {
  ws: WebSocket;
  send(frame: string | Buffer): Promise<Record<string, unknown>>;
  call<T = unknown>(method: string, ...args: unknown[]): Promise<T>;
  events: Array<{ event: string; data: unknown }>;
}

async function connectApi(): Promise<Api> {
  const ws = await openWs(`/api?token=${token}`, { origin });
  const waiting: Array<(m: Record<string, unknown>) => void> = [];
  const events: Api['events'] = [];
  let nextId = 1;
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as Record<string, unknown>;
    if ('event' in message) events.push(message as Api['events'][number]);
    else waiting.shift()?.(message);
  });
  const send: Api['send'] = (frame) =>
    new Promise((resolve) => {
      waiting.push(resolve);
      ws.send(frame, { binary: Buffer.isBuffer(frame) });
    });
  return {
    ws,
    events,
    send,
    async call<T>(method: string, ...args: unknown[]): Promise<T> {
      const reply = await send(JSON.stringify({ id: nextId++, method, args }));
      if ('error' in reply) throw new Error(`${method}: ${JSON.stringify(reply.error)}`);
      return reply.result as T;
    },
  };
}

async function until(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let api: Api;

describe('vmdesk serve', () => {
  it('prints one line with the URL and its token, and listens on loopback', () => {
    expect(output).toMatch(/^VMDesk is serving on http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43}\n$/);
  });

  it('answers 401 without or with a wrong token, 403 to a foreign Host', async () => {
    const none = await request('/');
    expect(none.statusCode).toBe(401);
    expect(none.headers['content-security-policy']).toContain("script-src 'self'");
    expect((await request('/?token=wrong')).statusCode).toBe(401);
    expect((await request('/', { Cookie: 'vmdesk_page=wrong' })).statusCode).toBe(401);
    expect((await request(`/?token=${token}`, { Host: `attacker.example:${new URL(origin).port}` })).statusCode).toBe(403);
  });

  it('serves the token URL with an HttpOnly cookie of a page key (not the token), which serves the UI', async () => {
    const r = await request(`/?token=${token}`);
    expect(r.statusCode).toBe(200);
    const pageCookie =
      /^vmdesk_page=[\w-]{43}(?=; HttpOnly; SameSite=Strict; Path=\/$)/.exec(r.headers['set-cookie']?.[0] ?? '')?.[0] ?? '';
    expect(pageCookie).not.toBe('');
    expect(pageCookie).not.toContain(token);
    expect(r.headers['content-security-policy']).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
    const page = await request('/', { Cookie: pageCookie });
    // The global setup built dist/renderer: the page is the built UI, and the script it names is served.
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<title>VMDesk</title>');
    expect(page.headers['content-security-policy']).toContain("object-src 'none'");
    const script = /<script type="module" crossorigin src="\.?(\/assets\/[\w.-]+\.js)"/.exec(page.body)?.[1];
    expect(script).toBeDefined();
    const asset = await request(script ?? '', { Cookie: pageCookie });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.body.length).toBeGreaterThan(1000);
  });

  it('refuses a WebSocket from a foreign Origin, or without the token', async () => {
    await expect(openWs(`/api?token=${token}`, { origin: 'http://attacker.example' })).rejects.toThrow('HTTP 403');
    await expect(openWs('/api', { origin })).rejects.toThrow('HTTP 401');
    await expect(openWs(`/console/serial/..%2f..%2fetc?token=${token}`, { origin })).rejects.toThrow('HTTP 400');
  });

  it('creates and starts the demo guest over /api', async () => {
    api = await connectApi();
    expect(await api.call('listMachines')).toEqual([]);
    const task = await api.call<{ id: string; state: string }>('createMachine', { name: 'demo', demo: true });
    const done = (): { state: string; result?: unknown; error?: unknown } | undefined =>
      api.events.map((e) => e.data as { id: string; state: string }).find((t) => t?.id === task.id && t.state !== 'running');
    await until(
      () => done() !== undefined,
      90_000,
      () => `task ${task.id}: ${JSON.stringify(api.events.slice(-3))}`,
    );
    expect(done()).toMatchObject({ state: 'done', result: { name: 'demo' } });
    uuid = (done()?.result as { uuid: string }).uuid;
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
    const list = await api.call<Array<{ uuid: string; status: { state: string } }>>('listMachines');
    expect(list.map((m) => m.uuid)).toEqual([uuid]);
    expect(await api.call('startMachine', uuid)).toMatchObject({ state: 'running' });
    await until(
      () => api.events.some((e) => e.event === 'machine-state' && (e.data as { status: { state: string } }).status.state === 'running'),
      30_000,
      () => 'a machine-state event',
    );
    const endpoint = await api.call<{ url: string; token: string }>('streamEndpoint');
    expect(endpoint).toEqual({ url: `ws://${host}`, token });
  });

  it('answers malformed messages with errors and keeps serving', async () => {
    const invalid = { error: { code: 'INVALID_INPUT' } };
    expect(await api.send('{not json')).toMatchObject({ id: null, ...invalid });
    expect(await api.send(JSON.stringify({ id: 101, method: 'formatHostDisk', args: [] }))).toMatchObject({ id: 101, ...invalid });
    expect(await api.send(JSON.stringify({ id: 102, method: 'startMachine', args: [{ evil: true }] }))).toMatchObject({
      id: 102,
      ...invalid,
    });
    expect(await api.send(JSON.stringify({ id: 103, method: 'createMachine', args: [{ name: '../x', iso: 7 }] }))).toMatchObject({
      id: 103,
      ...invalid,
    });
    expect(await api.send(Buffer.from([0, 1, 2, 255]))).toMatchObject({ id: null, ...invalid });
    const huge = JSON.stringify({ id: 104, method: 'listMachines', args: [], pad: 'x'.repeat(3 * 1024 * 1024) });
    expect(await api.send(huge)).toMatchObject({ id: null, ...invalid });
    expect(await api.call('listMachines')).toHaveLength(1);
    // A second client is still welcome.
    const other = await connectApi();
    expect(await other.call('getMachine', 'demo')).toMatchObject({ uuid });
    other.ws.close();
  });

  it('bridges the serial console to several viewers, with the scrollback', async () => {
    const viewer = async (): Promise<{ ws: WebSocket; text: () => string }> => {
      let text = '';
      const ws = await openWs(`/console/serial/${uuid}?token=${token}`, { origin }, [], (d) => (text += d.toString('latin1')));
      return { ws, text: () => text };
    };
    const first = await viewer();
    await until(
      () => first.text().includes(DEMO_PROMPT),
      120_000,
      () => `the prompt; got ${JSON.stringify(first.text().slice(-300))}`,
    );
    const second = await viewer();
    // The late viewer's scrollback holds the boot output already.
    await until(
      () => second.text().includes(DEMO_PROMPT),
      10_000,
      () => 'the prompt in the scrollback',
    );
    first.ws.send('echo served-$((6*7))\r');
    await until(
      () => first.text().includes('served-42\r\n') && second.text().includes('served-42\r\n'),
      30_000,
      () => `the answer; got ${JSON.stringify(second.text().slice(-200))}`,
    );
    // Typing is echoed to both viewers.
    expect(second.text()).toContain('echo served-$((6*7))');
    first.ws.close();
    second.ws.close();
  });

  it('bridges the VNC display (RFB) with the binary subprotocol', async () => {
    let received = '';
    const ws = await openWs(`/console/vnc/${uuid}?token=${token}`, { origin }, ['binary'], (d) => (received += d.toString('latin1')));
    expect(ws.protocol).toBe('binary');
    await until(
      () => received.length >= 12,
      30_000,
      () => `the RFB banner; got ${JSON.stringify(received)}`,
    );
    expect(received.slice(0, 12)).toBe('RFB 003.008\n');
    ws.close();
  });

  it('stops on Ctrl-C (SIGINT to its process group) and leaves the machine running', async () => {
    const closed = new Promise<number>((resolve) => api.ws.once('close', (code) => resolve(code)));
    const pid = server.pid;
    if (!pid) throw new Error('vmdesk serve has no pid');
    process.kill(-pid, 'SIGINT');
    const code = await new Promise<number | null>((resolve) => server.once('exit', resolve));
    expect(code).toBe(0);
    expect(await closed).toBe(1001);
    expect(output).toContain('Stopping the server (SIGINT); running machines keep running.');
    const shown = JSON.parse(await ok(sb, ['show', 'demo', '--json'])) as { status: { state: string } };
    expect(shown.status.state).toBe('running');
    // Not only listed as running: the guest still answers.
    await ok(sb, ['send', 'demo', 'echo after-$((5*5))\\n']);
    await ok(sb, ['wait', 'demo', '--text', '\nafter-25', '--timeout', '30']);
    await ok(sb, ['stop', 'demo', '--force']);
  });
});
