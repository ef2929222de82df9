// The browser face of `vmdesk serve` probed the way Cockpit's and Proxmox's own tests probe theirs,
// over raw sockets (so no client library normalises a path or a header), against the real CLI and a
// real demo guest: cross-site WebSocket hijacking on /api and on every console stream, DNS rebinding,
// CSRF on every method, the token and its cookie, console streams bound to one machine (path tricks,
// a uuid-shaped name, a machine deleted and re-created), and no token in any log or file it writes.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEMO_PROMPT } from '../core/demo/demo-guest.js';
import { CLI, makeSandbox, ok, type Sandbox } from './harness.js';

let sb: Sandbox;
let server: ChildProcess;
let stdout = '';
let stderr = '';
let port: number;
let origin: string;
let token: string;
/** The running demo guest, and a stopped machine beside it. */
let guest: string;
let other: string;
const probes = { tried: 0, refused: 0 };

interface RawAnswer {
  status: number;
  head: string;
  body: string;
}

/** One request written byte for byte; the answer's status line, headers and (for plain HTTP) body. */
function raw(request: string, until: 'head' | 'end' = 'end'): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(port, '127.0.0.1');
    let text = '';
    const done = (): void => {
      const [head = '', body = ''] = text.split('\r\n\r\n', 2);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body });
      socket.destroy();
    };
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (until === 'head' && text.includes('\r\n\r\n')) done();
    });
    socket.on('error', reject);
    socket.on('close', done);
    socket.write(request);
  });
}

function headerLines(headers: Record<string, string | undefined>): string {
  return Object.entries(headers)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
}

const own = (): Record<string, string> => ({ Host: `127.0.0.1:${port}`, Origin: origin });
/** The page-key cookie the token URL sets (filled in by the first test). */
let pageCookie = '';
const cookie = (): string => pageCookie;

/** A WebSocket handshake as a browser (or a hostile client) sends it; the HTTP status of the answer. */
async function upgrade(target: string, headers: Record<string, string | undefined>): Promise<number> {
  const answer = await raw(
    `GET ${target} HTTP/1.1\r\n${headerLines({
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version': '13',
      ...headers,
    })}\r\n`,
    'head',
  );
  return answer.status;
}

function request(method: string, target: string, headers: Record<string, string | undefined>, body = ''): Promise<RawAnswer> {
  const length = body ? { 'Content-Length': String(Buffer.byteLength(body)) } : {};
  return raw(`${method} ${target} HTTP/1.1\r\n${headerLines({ Connection: 'close', ...length, ...headers })}\r\n${body}`);
}

/** Counts a hostile probe; it is refused when the server answered with no success (and no upgrade). */
function hostile(status: number): number {
  probes.tried++;
  if (status < 200 || status >= 300) {
    if (status !== 101) probes.refused++;
  }
  return status;
}

/**
 * An open WebSocket, with its first message and its close kept from the start: ws emits 'open' and
 * the frames that came in the same packet in one go, before a listener added after 'open' could see them.
 */
function openWs(target: string): Promise<WebSocket & { first: Promise<Buffer>; closed: Promise<[number, string]> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${target}`, { origin });
    const first = new Promise<Buffer>((r) => ws.once('message', (d: Buffer) => r(d)));
    const closed = new Promise<[number, string]>((r) => ws.once('close', (code, reason) => r([code, reason.toString()])));
    ws.once('open', () => resolve(Object.assign(ws, { first, closed })));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** A console stream that is accepted, then closed by the server: its close code and reason. */
function closedWith(target: string): Promise<[number, string]> {
  return openWs(target).then((ws) => ws.closed);
}

async function until(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function uuidOf(name: string): Promise<string> {
  return (JSON.parse(await ok(sb, ['show', name, '--json'])) as { uuid: string }).uuid;
}

beforeAll(async () => {
  sb = makeSandbox();
  await ok(sb, ['create', 'guest-a', '--demo']);
  await ok(sb, ['create', 'other-b', '--memory', '64']);
  guest = await uuidOf('guest-a');
  other = await uuidOf('other-b');
  server = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  server.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vmdesk serve printed no URL:\n${stdout}${stderr}`)), 30_000);
    server.stdout?.on('data', () => {
      const m = /^VMDesk is serving on (http:\/\/\S+)\n/.exec(stdout);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(new URL(m[1]));
      }
    });
    server.on('exit', (code) => reject(new Error(`vmdesk serve exited ${code}:\n${stdout}${stderr}`)));
  });
  port = Number(url.port);
  origin = url.origin;
  token = url.searchParams.get('token') ?? '';
  await ok(sb, ['start', 'guest-a']);
});

afterAll(async () => {
  if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  for (const name of ['guest-a', guest]) await ok(sb, ['stop', name, '--force']).catch(() => undefined);
  await sb?.cleanup();
  console.log(`browser face: ${probes.tried} hostile requests tried, ${probes.refused} refused`);
});

describe('the token and its cookie', () => {
  it('is 256 bits, printed once; its URL sets an HttpOnly, SameSite=Strict cookie of another secret (Secure cannot be: plain http)', async () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    const login = await request('GET', `/?token=${token}`, own());
    expect(login.status).toBe(200);
    const setCookie = /^set-cookie: (.*)$/im.exec(login.head)?.[1] ?? '';
    const [pair = '', ...flags] = setCookie.split(/;\s*/);
    expect(pair).toMatch(/^vmdesk_page=[A-Za-z0-9_-]{43}$/);
    // The token never goes into a cookie: a browser sends the cookies of 127.0.0.1 to all its ports.
    expect(pair).not.toContain(token);
    pageCookie = pair;
    // No Domain (host-only), no expiry (gone with the browser session); a Secure cookie would never be
    // sent back over http://127.0.0.1, and the __Host- prefix needs Secure: neither is possible here.
    expect(flags.sort()).toEqual(['HttpOnly', 'Path=/', 'SameSite=Strict']);
    // The page (no-store) takes the token out of the URL itself; it sends no Referer meanwhile.
    expect(login.head).toMatch(/^cache-control: no-store$/im);
    expect(login.head).toMatch(/^referrer-policy: no-referrer$/im);
    // A wrong token sets nothing: no login CSRF with a token of the attacker's choosing.
    for (const wrong of ['x', `${token}x`, token.slice(1), token.toLowerCase()]) {
      const r = await request('GET', `/?token=${encodeURIComponent(wrong)}`, own());
      expect(hostile(r.status)).toBe(401);
      expect(r.head).not.toMatch(/set-cookie/i);
    }
  });
});

describe('cross-site WebSocket hijacking', () => {
  const paths = (): string[] => ['/api', `/console/serial/${guest}`, `/console/vnc/${guest}`];

  it('accepts the token from our own origin, and from a client with no Origin', async () => {
    for (const target of paths()) {
      expect(await upgrade(`${target}?token=${token}`, own()), target).toBe(101);
      expect(await upgrade(`${target}?token=${token}`, { Host: `127.0.0.1:${port}` }), target).toBe(101);
    }
  });

  it('opens nothing with the cookie a guest web server on another port of 127.0.0.1 would receive', async () => {
    const pageKey = pageCookie.slice('vmdesk_page='.length);
    for (const target of paths()) {
      expect(hostile(await upgrade(target, { ...own(), Cookie: cookie() })), target).toBe(401);
      expect(hostile(await upgrade(target, { Host: `127.0.0.1:${port}`, Cookie: cookie() })), target).toBe(401);
      expect(hostile(await upgrade(`${target}?token=${pageKey}`, own())), target).toBe(401);
    }
    expect(hostile((await request('GET', `/?token=${pageKey}`, own())).status)).toBe(401);
    // What it does open: the UI's public files.
    expect((await request('GET', '/', { ...own(), Cookie: cookie() })).status).toBe(200);
  });

  it('refuses a foreign, opaque or look-alike Origin, with the cookie or the token, on every path', async () => {
    const foreign = [
      'http://attacker.example',
      // Another port of 127.0.0.1 is the same site: SameSite=Strict lets the cookie go, the Origin check does not.
      'http://127.0.0.1:1',
      `http://localhost:${port + 1}`,
      `http://127.0.0.1.nip.io:${port}`,
      `http://localhost.evil:${port}`,
      `http://127.0.0.1:${port}.attacker.example`,
      `https://127.0.0.1:${port}`,
      `ws://127.0.0.1:${port}`,
      'null',
      'file://',
      `${origin}/`,
      origin.toUpperCase(),
      '',
    ];
    for (const target of paths())
      for (const from of foreign) {
        expect(hostile(await upgrade(target, { ...own(), Origin: from, Cookie: cookie() })), `${target} from ${from}`).toBe(403);
        expect(hostile(await upgrade(`${target}?token=${token}`, { ...own(), Origin: from })), `${target}?token from ${from}`).toBe(403);
      }
  });

  it('refuses a missing or wrong token whatever the Origin', async () => {
    for (const target of paths()) {
      expect(hostile(await upgrade(target, own()))).toBe(401);
      expect(hostile(await upgrade(target, { ...own(), Cookie: 'vmdesk_page=wrong' }))).toBe(401);
      expect(hostile(await upgrade(`${target}?token=wrong`, { ...own(), Cookie: cookie() }))).toBe(401);
    }
  });
});

describe('DNS rebinding', () => {
  const names = ['127.attacker.example', 'localhost.evil', '127.0.0.1.nip.io', 'attacker.example', '127.0.0.1.', 'localhost.'];
  const hosts = (): string[] => [
    ...names.flatMap((n) => [n, `${n}:${port}`]),
    '127.0.0.1',
    'localhost',
    `127.0.0.1:${port + 1}`,
    `0.0.0.0:${port}`,
    `127.1:${port}`,
    `2130706433:${port}`,
    `[::ffff:127.0.0.1]:${port}`,
    `127.0.0.1:${port}@attacker.example`,
    '',
  ];

  it('answers 403 to every foreign Host, on pages and WebSockets, with the token or the cookie', async () => {
    for (const h of hosts()) {
      const withToken = await request('GET', `/?token=${token}`, { Host: h });
      expect(hostile(withToken.status), h).toBe(403);
      expect(withToken.head).not.toMatch(/set-cookie/i);
      expect(hostile((await request('GET', '/', { Host: h, Cookie: cookie() })).status), h).toBe(403);
      expect(hostile((await request('GET', '/assets/', { Host: h, Cookie: cookie() })).status), h).toBe(403);
      for (const target of ['/api', `/console/serial/${guest}`, `/console/vnc/${guest}`]) {
        expect(hostile(await upgrade(`${target}?token=${token}`, { Host: h, Origin: `http://${h}` })), `${target} ${h}`).toBe(403);
        expect(hostile(await upgrade(target, { Host: h, Origin: `http://${h}`, Cookie: cookie() })), `${target} ${h}`).toBe(403);
      }
    }
    // No Host header at all (HTTP/1.0).
    expect(hostile((await raw(`GET /?token=${token} HTTP/1.0\r\n\r\n`)).status)).toBe(403);
  });
});

describe('CSRF', () => {
  it('has no state-changing HTTP endpoint: every other method is 405, with the cookie and a cross-site Origin', async () => {
    const before = await ok(sb, ['list', '--json']);
    const attack = JSON.stringify({ id: 1, method: 'deleteMachine', args: ['other-b'] });
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND', 'TRACE'])
      for (const target of ['/', '/api', `/console/serial/${guest}`, '/index.html', `/?token=${token}`]) {
        const r = await request(
          method,
          target,
          {
            Host: `127.0.0.1:${port}`,
            Cookie: cookie(),
            Origin: 'http://127.0.0.1:1',
            'Sec-Fetch-Site': 'same-site',
            'Content-Type': 'text/plain',
          },
          attack,
        );
        expect(hostile(r.status), `${method} ${target}`).toBe(405);
        expect(r.head).not.toMatch(/set-cookie|access-control-allow/i);
      }
    // CONNECT is not served at all: the connection is closed without an answer.
    expect(hostile((await raw(`CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nCookie: ${cookie()}\r\n\r\n`)).status)).toBe(0);
    expect(await ok(sb, ['list', '--json'])).toBe(before);
  });

  it('lets no other origin read a page: no CORS header, CORP same-origin, no framing', async () => {
    const page = await request('GET', '/', { Host: `127.0.0.1:${port}`, Cookie: cookie(), Origin: 'http://127.0.0.1:1' });
    expect(page.status).toBe(200);
    expect(page.head).not.toMatch(/access-control-allow/i);
    expect(page.head).toMatch(/^cross-origin-resource-policy: same-origin$/im);
    expect(page.head).toMatch(/^x-frame-options: DENY$/im);
    expect(page.head).toMatch(/frame-ancestors 'none'/);
  });
});

describe('console streams are bound to one machine', () => {
  it('refuses every path trick instead of resolving it to another path', async () => {
    const hex = [...guest].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('');
    const tricks = [
      `/console/serial/${guest}/../${other}`,
      `/console/serial/${other}/../${guest}`,
      `/console/serial/${guest}/%2e%2e/${other}`,
      `/console/serial/${guest}%2f..%2f${other}`,
      `/console/serial/${guest}%2F${other}`,
      `/console/serial/${guest}/`,
      `/console/serial/${guest}/x`,
      `/console/serial//${guest}`,
      `/console/serial/./${guest}`,
      `/console/./serial/${guest}`,
      `/console/vnc/../serial/${guest}`,
      `/console/serial/${guest}%00`,
      `/console/serial/${guest};${other}`,
      `/console/serial/${guest},${other}`,
      `/console/serial/${hex}`,
      `/console/serial/%7b${guest}%7d`,
      '/console/serial/guest-a',
      '/console/serial/other-b',
      `/console/tty/${guest}`,
      `/console/SERIAL/${guest}`,
      `//console/serial/${guest}`,
      `/api/../console/serial/${guest}`,
      `/api/..%2fconsole/serial/${guest}`,
      `http://127.0.0.1:${port}/console/serial/${guest}`,
    ];
    for (const target of tricks) {
      const status = hostile(await upgrade(`${target}?token=${token}`, own()));
      expect([400, 404], target).toContain(status);
    }
  });

  it('streams the machine its uuid names (in any case), and only that one', async () => {
    await ok(sb, ['wait', 'guest-a', '--text', DEMO_PROMPT, '--timeout', '120'], { timeoutMs: 150_000 });
    const ws = await openWs(`/console/serial/${guest.toUpperCase()}?token=${token}`);
    let text = '';
    ws.on('message', (d: Buffer) => (text += d.toString('latin1')));
    ws.send('echo bound-$((6*7))\r');
    await until(
      () => text.includes('bound-42\r\n'),
      30_000,
      () => `the answer; got ${JSON.stringify(text.slice(-200))}`,
    );
    // The stopped machine beside it has no stream, whatever is asked.
    expect((await closedWith(`/console/serial/${other}?token=${token}`))[0]).toBe(4409);
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    await ok(sb, ['stop', 'guest-a', '--force']);
    expect(await closed).toBe(4410);
  });

  it('never gives the stream of a deleted machine to a new one named like its uuid', async () => {
    await ok(sb, ['delete', 'guest-a']);
    // Names may look like uuids; the core finds a machine by uuid, else by name.
    await ok(sb, ['create', guest, '--memory', '64']);
    const impostor = await uuidOf(guest);
    expect(impostor).not.toBe(guest);
    await ok(sb, ['start', guest]);
    for (const kind of ['serial', 'vnc']) {
      const [code, reason] = await closedWith(`/console/${kind}/${guest}?token=${token}`);
      probes.tried++;
      if (code === 4404) probes.refused++;
      expect([code, reason], kind).toEqual([4404, `No machine with uuid ${guest}`]);
    }
    // The new machine's own stream is there, under its own uuid.
    const ws = await openWs(`/console/vnc/${impostor}?token=${token}`);
    const banner = (await ws.first).toString('latin1');
    expect(banner).toBe('RFB 003.008\n');
    ws.close();
    await ok(sb, ['stop', guest, '--force']);
  });
});

describe('no token in any log', () => {
  it('prints the token once on stdout, nothing else, and writes it to no file', async () => {
    // Requests with the token in the URL, right and wrong, served, refused and failing.
    for (const target of ['/', '/nope', '/assets/missing.js', '/../etc/passwd', `/console/serial/${other}`]) {
      await request('GET', `${target}?token=${token}`, own());
      await request('GET', `${target}?token=${token}x`, own());
      await upgrade(`${target}?token=${token}`, own());
    }
    await upgrade(`/api?token=${token}`, { ...own(), Origin: 'http://attacker.example' });
    const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stdout).toBe(`VMDesk is serving on ${origin}/?token=${token}\n`);
    expect(stderr).toBe('Stopping the server (SIGTERM); running machines keep running.\n');
    const scanned: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (entry.isFile()) {
          scanned.push(file);
          expect(fs.readFileSync(file).includes(token), file).toBe(false);
        }
      }
    };
    walk(sb.home);
    walk(sb.runtime);
    expect(scanned.some((f) => f.endsWith(path.join('logs', 'qemu.log')))).toBe(true);
    expect(scanned.some((f) => f.endsWith(path.join('logs', 'serial.log')))).toBe(true);
  });
});
