// The server on real sockets with a real core over an empty library (no QEMU): HTTP access rules,
// static files, the /api socket's handling of bad input, console refusals and shutdown.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Core } from '../core/core.js';
import { parseConsolePath } from './console-bridge.js';
import { startServer, type RunningServer } from './server.js';

let base: string;
let server: RunningServer;
let host: string;

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-srv-'));
  const rendererDir = path.join(base, 'renderer');
  fs.mkdirSync(path.join(rendererDir, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>VMDesk</title>');
  fs.writeFileSync(path.join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
  fs.writeFileSync(path.join(base, 'secret.txt'), 'secret');
  const env = { ...process.env, VMDESK_HOME: path.join(base, 'home'), VMDESK_RUNTIME_DIR: fs.mkdtempSync('/tmp/vmrt-') };
  server = await startServer({ core: new Core({ env }), rendererDir, token: 'unit-token' });
  host = `127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server.close();
  fs.rmSync(base, { recursive: true, force: true });
});

/** One request written byte for byte (no client-side path normalisation), and the raw answer. */
function raw(request: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(server.port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('end', () => {
      const [head = '', body = ''] = text.split('\r\n\r\n', 2);
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
    socket.write(request);
  });
}

function get(target: string, headers: Record<string, string> = {}, method = 'GET'): ReturnType<typeof raw> {
  const all = { Host: host, Connection: 'close', ...headers };
  return raw(
    `${method} ${target} HTTP/1.1\r\n${Object.entries(all)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}\r\n`,
  );
}

/** The page-key cookie the token URL sets (filled in by the first test). */
const cookie = { Cookie: '' };

function openWs(target: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${host}${target}`, options);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Requests over one /api socket; answers are matched by id, frames without one are collected. */
function apiClient(ws: WebSocket): { call: (frame: string | Buffer) => Promise<Record<string, unknown>> } {
  const queue: Array<(m: Record<string, unknown>) => void> = [];
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as Record<string, unknown>;
    if (!('event' in message)) queue.shift()?.(message);
  });
  return {
    call: (frame) =>
      new Promise((resolve) => {
        queue.push(resolve);
        ws.send(frame, { binary: Buffer.isBuffer(frame) });
      }),
  };
}

describe('HTTP', () => {
  it('serves the token URL with a page-key cookie, not the token', async () => {
    const r = await get('/?token=unit-token');
    expect(r.status).toBe(200);
    expect(r.body).toContain('<title>VMDesk</title>');
    const [pair = '', ...flags] = (r.headers['set-cookie'] ?? '').split('; ');
    expect(flags).toEqual(['HttpOnly', 'SameSite=Strict', 'Path=/']);
    expect(pair).toMatch(/^vmdesk_page=[\w-]{43}$/);
    expect(pair).not.toContain('unit-token');
    cookie.Cookie = pair;
  });

  it('serves the renderer with the security headers to a holder of the token', async () => {
    const r = await get('/', cookie);
    expect(r.status).toBe(200);
    expect(r.body).toContain('<title>VMDesk</title>');
    expect(r.headers['content-security-policy']).toContain("script-src 'self'");
    expect(r.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['cache-control']).toBe('no-store');
    const js = await get('/assets/app.js', cookie);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const head = await get('/assets/app.js', cookie, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('answers 401 without the token, 403 to a foreign Host, both with the CSP', async () => {
    for (const r of [await get('/'), await get('/?token=wrong'), await get('/assets/app.js', { Cookie: 'vmdesk_page=wrong' })]) {
      expect(r.status).toBe(401);
      expect(r.body).not.toContain('console.log');
      expect(r.headers['content-security-policy']).toContain("default-src 'self'");
    }
    const rebound = await get('/?token=unit-token', { Host: `evil.example:${server.port}` });
    expect(rebound.status).toBe(403);
    expect(rebound.headers['set-cookie']).toBeUndefined();
  });

  it('refuses paths out of the renderer folder and other methods', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/..%5csecret.txt', '/nope']) {
      const r = await get(p, cookie);
      expect(r.status, p).toBe(404);
      expect(r.body).not.toContain('secret');
    }
    expect((await get('/favicon.ico', cookie)).status).toBe(204);
    expect((await get('/favicon.ico')).status).toBe(401);
    expect((await get('/', cookie, 'POST')).status).toBe(405);
    expect((await get('/', { Cookie: 'vmdesk_page=wrong' }, 'POST')).status).toBe(401);
  });
});

describe('WebSockets', () => {
  it('refuses upgrades without the token, from a foreign Origin or Host, or to unknown paths', async () => {
    await expect(openWs('/api')).rejects.toThrow('HTTP 401');
    await expect(openWs('/api?token=wrong')).rejects.toThrow('HTTP 401');
    await expect(openWs('/api?token=unit-token', { origin: 'http://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(openWs('/api?token=unit-token', { headers: { Host: 'evil.example' } })).rejects.toThrow('HTTP 403');
    await expect(openWs('/elsewhere?token=unit-token')).rejects.toThrow('HTTP 404');
    await expect(openWs('/console/serial/not-a-uuid?token=unit-token')).rejects.toThrow('HTTP 400');
    await expect(openWs('/console/tty/0b7e2a5c-4f65-4f5e-8a0a-2f1e0c9d1a11?token=unit-token')).rejects.toThrow('HTTP 400');
    // The page-key cookie serves pages only.
    await expect(openWs('/api', { headers: cookie, origin: `http://${host}` })).rejects.toThrow('HTTP 401');
    const ws = await openWs('/api?token=unit-token', { origin: `http://${host}` });
    ws.close();
  });

  it('answers API calls, and every malformed frame with an error, without dropping the socket', async () => {
    const ws = await openWs('/api?token=unit-token');
    const api = apiClient(ws);
    expect(await api.call(JSON.stringify({ id: 1, method: 'listMachines', args: [] }))).toEqual({ id: 1, result: [] });
    expect(await api.call(JSON.stringify({ id: 2, method: 'streamEndpoint' }))).toEqual({
      id: 2,
      result: { url: `ws://${host}`, token: 'unit-token' },
    });
    const invalid = { code: 'INVALID_INPUT' };
    expect(await api.call('not json {')).toMatchObject({ id: null, error: invalid });
    expect(await api.call('[1,2]')).toMatchObject({ id: null, error: invalid });
    expect(await api.call('null')).toMatchObject({ id: null, error: invalid });
    expect(await api.call(JSON.stringify({ id: 'x', method: 'listMachines' }))).toMatchObject({ id: null, error: invalid });
    expect(await api.call(JSON.stringify({ id: 3, method: 'rmRf', args: [] }))).toMatchObject({ id: 3, error: invalid });
    expect(await api.call(JSON.stringify({ id: 4, method: '__proto__', args: [] }))).toMatchObject({ id: 4, error: invalid });
    expect(await api.call(JSON.stringify({ id: 5, method: 'getMachine', args: [42] }))).toMatchObject({ id: 5, error: invalid });
    expect(await api.call(JSON.stringify({ id: 6, method: 'getMachine', args: 'x' }))).toMatchObject({ id: 6, error: invalid });
    expect(await api.call(JSON.stringify({ id: 7, method: 'getMachine', args: ['nope'] }))).toMatchObject({
      id: 7,
      error: { code: 'NOT_FOUND' },
    });
    expect(await api.call(Buffer.from('{"id":8,"method":"listMachines"}'))).toMatchObject({ id: null, error: invalid });
    const huge = JSON.stringify({ id: 9, method: 'getMachine', args: ['x'.repeat(2 * 1024 * 1024)] });
    expect(await api.call(huge)).toMatchObject({ id: null, error: invalid });
    expect(await api.call(JSON.stringify({ id: 10, method: 'listMachines', args: [] }))).toEqual({ id: 10, result: [] });
    ws.close();
  });

  it('closes a console stream of an unknown machine with a reason', async () => {
    const ws = await openWs('/console/serial/0b7e2a5c-4f65-4f5e-8a0a-2f1e0c9d1a11?token=unit-token');
    const [code, reason] = await new Promise<[number, string]>((resolve) => ws.on('close', (c, r) => resolve([c, r.toString()])));
    expect(code).toBe(4404);
    expect(reason).toMatch(/not found|no machine/i);
  });
});

describe('console paths', () => {
  const uuid = '0b7e2a5c-4f65-4f5e-8a0a-2f1e0c9d1a11';

  it('name a kind and a uuid, exactly as sent', () => {
    expect(parseConsolePath(`/console/serial/${uuid}`)).toEqual({ kind: 'serial', uuid });
    expect(parseConsolePath(`/console/vnc/${uuid.toUpperCase()}`)).toEqual({ kind: 'vnc', uuid });
  });

  it('refuse dot segments, escapes, extra segments and names rather than resolve them', () => {
    const other = '11111111-2222-4333-8444-555555555555';
    for (const p of [
      `/console/serial/${other}/../${uuid}`,
      `/console/serial/${other}/%2e%2e/${uuid}`,
      `/console/serial/%30${uuid.slice(1)}`,
      `/console/serial/${uuid}/`,
      `/console/serial//${uuid}`,
      `/console/./serial/${uuid}`,
      `/console/SERIAL/${uuid}`,
      `/console/serial/${uuid}%00`,
      '/console/serial/demo',
      `/api/../console/serial/${uuid}`,
    ])
      expect(parseConsolePath(p), p).toBeNull();
  });
});
