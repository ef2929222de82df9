import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { accessPolicy, checkAccess, hostWithPort, isLoopback, newToken, pageCookie, readCookie, tokenMatches } from './access.js';

const TOKEN = 'tok-abc_123';
const PAGE_KEY = 'page-key_456';
const secrets = { token: TOKEN, pageKey: PAGE_KEY };
const policy = accessPolicy(secrets, '127.0.0.1', 8123, ['app://vmdesk']);

function check(path: string, headers: Record<string, string>, upgrade = false): ReturnType<typeof checkAccess> {
  const req = { headers } as unknown as IncomingMessage;
  return checkAccess(policy, req, new URL(path, 'http://vmdesk.invalid'), upgrade);
}

describe('token comparison and cookies', () => {
  it('makes tokens of 256 bits from the system CSPRNG (crypto.randomBytes)', () => {
    const spy = vi.spyOn(crypto, 'randomBytes');
    const token = newToken();
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.calls[0]?.[0]).toBe(32);
    expect(Buffer.from(token, 'base64url').toString('base64url')).toBe(token);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    spy.mockRestore();
  });

  it('never repeats a token, and each bit is set about half the time', () => {
    const tokens = Array.from({ length: 2000 }, () => newToken());
    expect(new Set(tokens).size).toBe(tokens.length);
    const ones = new Array<number>(256).fill(0);
    for (const t of tokens) {
      const bytes = Buffer.from(t, 'base64url');
      for (let bit = 0; bit < 256; bit++) ones[bit]! += (bytes[bit >> 3]! >> (bit & 7)) & 1;
    }
    // 2000 draws: a fair bit lands within 1000 ± 5 sigma (sigma ≈ 22) with near certainty.
    for (const count of ones) expect(Math.abs(count - 1000)).toBeLessThan(112);
  });

  it('matches only the exact token, whatever the lengths', () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(TOKEN, `${TOKEN}x`)).toBe(false);
    expect(tokenMatches(TOKEN, TOKEN.slice(0, -1))).toBe(false);
    expect(tokenMatches(TOKEN, '')).toBe(false);
    expect(tokenMatches(TOKEN, TOKEN.toUpperCase())).toBe(false);
  });

  it('reads one cookie among several and ignores look-alikes', () => {
    expect(readCookie('a=1; vmdesk_page=xyz; b=2', 'vmdesk_page')).toBe('xyz');
    expect(readCookie('xvmdesk_page=no; vmdesk_pagex=no', 'vmdesk_page')).toBeUndefined();
    expect(readCookie(undefined, 'vmdesk_page')).toBeUndefined();
    expect(readCookie('=novalue; vmdesk_page', 'vmdesk_page')).toBeUndefined();
  });

  it('sets an HttpOnly, SameSite=Strict cookie of the page key for the whole site', () => {
    expect(pageCookie('K')).toBe('vmdesk_page=K; HttpOnly; SameSite=Strict; Path=/');
  });
});

describe('addresses', () => {
  it('brackets IPv6 literals', () => {
    expect(hostWithPort('::1', 80)).toBe('[::1]:80');
    expect(hostWithPort('127.0.0.1', 80)).toBe('127.0.0.1:80');
    expect(hostWithPort('localhost', 1)).toBe('localhost:1');
  });

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) expect(isLoopback(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'localhost.evil.com', '127.0.0.1.nip.io']) expect(isLoopback(h)).toBe(false);
  });

  it('accepts the loopback names on the server port only', () => {
    expect([...policy.hosts].sort()).toEqual(['127.0.0.1:8123', '[::1]:8123', 'localhost:8123']);
    expect(policy.origins.has('http://127.0.0.1:8123')).toBe(true);
    expect(policy.origins.has('app://vmdesk')).toBe(true);
  });

  it('accepts the interface addresses when listening on every address', () => {
    const all = accessPolicy(secrets, '0.0.0.0', 9000);
    expect(all.hosts.has('0.0.0.0:9000')).toBe(true);
    expect(all.hosts.has('127.0.0.1:9000')).toBe(true);
    expect(all.hosts.has('evil.example:9000')).toBe(false);
  });

  it('accepts a Host without port only on port 80', () => {
    expect(accessPolicy(secrets, '127.0.0.1', 80).hosts.has('localhost')).toBe(true);
    expect(policy.hosts.has('localhost')).toBe(false);
  });
});

describe('checkAccess', () => {
  const host = { host: '127.0.0.1:8123' };

  it('lets in a page request with the page key in its cookie or the token in the query', () => {
    expect(check('/', { ...host, cookie: `vmdesk_page=${PAGE_KEY}` })).toEqual({ ok: true, host: '127.0.0.1:8123', tokenFromQuery: false });
    expect(check(`/?token=${TOKEN}`, host)).toEqual({ ok: true, host: '127.0.0.1:8123', tokenFromQuery: true });
    expect(check('/', { host: 'LOCALHOST:8123', cookie: `vmdesk_page=${PAGE_KEY}` })).toMatchObject({ ok: true, host: 'localhost:8123' });
  });

  it('answers 401 without a token or with a wrong one', () => {
    expect(check('/', host)).toEqual({ ok: false, status: 401, reason: 'no-token' });
    expect(check('/?token=', host)).toEqual({ ok: false, status: 401, reason: 'no-token' });
    expect(check('/?token=nope', host)).toEqual({ ok: false, status: 401, reason: 'bad-token' });
    expect(check('/', { ...host, cookie: 'vmdesk_page=nope' })).toEqual({ ok: false, status: 401, reason: 'bad-token' });
    // The two secrets are not interchangeable.
    expect(check('/', { ...host, cookie: `vmdesk_page=${TOKEN}` })).toMatchObject({ ok: false, status: 401 });
    expect(check(`/?token=${PAGE_KEY}`, host)).toMatchObject({ ok: false, status: 401 });
    // A wrong token in the query is not rescued by a right cookie.
    expect(check('/?token=nope', { ...host, cookie: `vmdesk_page=${PAGE_KEY}` })).toMatchObject({ ok: false, status: 401 });
  });

  it('answers 403 to a foreign or missing Host (DNS rebinding), even with the token', () => {
    for (const h of ['evil.example:8123', '127.0.0.1:8124', '127.0.0.1', 'localhost.evil.example:8123', '']) {
      expect(check(`/?token=${TOKEN}`, { host: h })).toEqual({ ok: false, status: 403, reason: 'bad-host' });
    }
    expect(check(`/?token=${TOKEN}`, {})).toEqual({ ok: false, status: 403, reason: 'bad-host' });
  });

  it('refuses WebSocket upgrades from a foreign Origin', () => {
    const t = `/api?token=${TOKEN}`;
    expect(check(t, { ...host, origin: 'http://127.0.0.1:8123' }, true)).toMatchObject({ ok: true });
    expect(check(t, { ...host, origin: 'app://vmdesk' }, true)).toMatchObject({ ok: true });
    for (const origin of ['http://evil.example', 'http://127.0.0.1:8124', 'https://127.0.0.1:8123', 'null', '']) {
      expect(check(t, { ...host, origin }, true)).toEqual({ ok: false, status: 403, reason: 'bad-origin' });
    }
    // Non-browser clients send no Origin; the token they hold still decides.
    expect(check(t, host, true)).toMatchObject({ ok: true });
    expect(check('/api', host, true)).toMatchObject({ ok: false, status: 401 });
  });

  it('opens no WebSocket with the page-key cookie, whatever the Origin: only the token does', () => {
    const withCookie = { ...host, cookie: `vmdesk_page=${PAGE_KEY}` };
    expect(check('/api', withCookie, true)).toEqual({ ok: false, status: 401, reason: 'no-token' });
    expect(check('/api', { ...withCookie, origin: 'http://127.0.0.1:8123' }, true)).toEqual({ ok: false, status: 401, reason: 'no-token' });
    expect(check('/api', { ...withCookie, origin: 'http://127.0.0.1:9999' }, true)).toMatchObject({ ok: false, reason: 'bad-origin' });
    expect(check(`/api?token=${TOKEN}`, { ...withCookie, origin: 'http://127.0.0.1:8123' }, true)).toMatchObject({ ok: true });
    // Plain page loads carry no Origin on navigation: the cookie alone serves them.
    expect(check('/', withCookie, false)).toMatchObject({ ok: true });
  });
});
