// The security of `vmdesk serve` as Chromium sees it: no token, no UI; the token URL logs in and
// leaves the address bar; the UI runs under the server's CSP without a violation, and injected
// inline script is blocked; a page of another origin (another port of 127.0.0.1 included, where the
// cookie goes along), or a rebound DNS name, gets nothing.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, launchBrowser, ok, openUi, pageProblems, serve, type Served } from './harness.js';

let served: Served;
let browser: Browser;

beforeAll(async () => {
  served = await serve();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await served?.stop();
  await served?.sb.cleanup();
});

describe('vmdesk serve in Chromium', () => {
  it('shows a 401 page, and no UI, without the token', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(`${served.origin}/`);
    expect(response?.status()).toBe(401);
    await expect.poll(() => page.locator('h1').textContent()).toBe('Not signed in');
    expect(await page.locator('#app').count()).toBe(0);
    const wrong = await page.goto(`${served.origin}/?token=not-the-token`);
    expect(wrong?.status()).toBe(401);
    expect(await context.cookies()).toEqual([]);
    await context.close();
  });

  it('logs in with the token URL, drops the token from the address bar and loads the UI without CSP violations', async () => {
    const { context, page } = await openUi(browser, served);
    expect(page.url()).toBe(`${served.origin}/`);
    // The cookie holds a page key, never the token, which the page keeps in its own origin's storage.
    const cookies = await context.cookies();
    expect(cookies).toEqual([expect.objectContaining({ name: 'vmdesk_page', httpOnly: true, sameSite: 'Strict' })]);
    expect(cookies[0]?.value).not.toBe(served.token);
    expect(await page.evaluate(() => localStorage.getItem('vmdesk-token'))).toBe(served.token);
    // The app mounted and reached the API over its WebSocket (an empty library lists no machine).
    await page.locator('#app > *').first().waitFor({ timeout: 30_000 });
    const listed = await page.evaluate(async () => {
      const ws = new WebSocket(`ws://${location.host}/api?token=${localStorage.getItem('vmdesk-token') ?? ''}`);
      return new Promise<string>((resolve) => {
        ws.onopen = () => ws.send(JSON.stringify({ id: 1, method: 'listMachines', args: [] }));
        ws.onmessage = (ev: MessageEvent<string>) => resolve(ev.data);
        ws.onclose = () => resolve('closed');
      });
    });
    expect(JSON.parse(listed)).toEqual({ id: 1, result: [] });
    await page.waitForLoadState('networkidle');
    // The HttpOnly cookie is out of reach of scripts.
    expect(await page.evaluate(() => document.cookie)).toBe('');
    expect(pageProblems(page)).toEqual([]);
    await context.close();
  });

  it('blocks inline script and inline event handlers injected into the page', async () => {
    const { context, page } = await openUi(browser, served);
    await page.locator('#app > *').first().waitFor({ timeout: 30_000 });
    const outcome = await page.evaluate(async () => {
      const w = window as unknown as Record<string, unknown>;
      const violations: string[] = [];
      document.addEventListener('securitypolicyviolation', (e) => violations.push(e.effectiveDirective));
      const script = document.createElement('script');
      script.textContent = 'window.__injected = 1';
      document.body.appendChild(script);
      const div = document.createElement('div');
      div.innerHTML = '<img src="data:," onerror="window.__handler = 1">';
      document.body.appendChild(div);
      // Both violations are reported as events: wait for them (10 s at most), not for a guessed time.
      for (let i = 0; i < 100 && !(violations.includes('script-src-elem') && violations.includes('script-src-attr')); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      return { injected: w.__injected ?? null, handler: w.__handler ?? null, violations };
    });
    expect(outcome.injected).toBeNull();
    expect(outcome.handler).toBeNull();
    expect(outcome.violations).toEqual(expect.arrayContaining(['script-src-elem', 'script-src-attr']));
    expect(pageProblems(page).some((p) => p.includes('Content Security Policy'))).toBe(true);
    await context.close();
  });

  it('refuses the API WebSocket to a page of another origin, even one that knows the token', async () => {
    const foreign = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><title>elsewhere</title>');
    });
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${(foreign.address() as AddressInfo).port}/`);
      const result = await page.evaluate(
        async (target: string) => {
          const ws = new WebSocket(target);
          return new Promise<string>((resolve) => {
            ws.onopen = () => resolve('open');
            ws.onclose = (ev) => resolve(`closed ${ev.code}`);
          });
        },
        `${served.origin.replace('http:', 'ws:')}/api?token=${served.token}`,
      );
      expect(result).toBe('closed 1006');
      await context.close();
    } finally {
      foreign.close();
    }
  });

  it('gives a logged-in browser no way in from a page on another port of 127.0.0.1 (same site: the cookie goes along)', async () => {
    let received = '';
    const foreign = http.createServer((req, res) => {
      received = req.headers.cookie ?? '';
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><title>a guest web server behind a port forward</title>');
    });
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    try {
      // Logged in: the browser holds the HttpOnly cookie, which it sends to every port of 127.0.0.1
      // (cookies ignore ports, SameSite=Strict included): the foreign server gets the page key, not the token.
      const { context, page } = await openUi(browser, served);
      await page.locator('#app > *').first().waitFor({ timeout: 30_000 });
      await page.goto(`http://127.0.0.1:${(foreign.address() as AddressInfo).port}/`);
      const ws = served.origin.replace('http:', 'ws:');
      const outcome = await page.evaluate(
        async ({ target, socket }) => {
          const open = (url: string): Promise<string> =>
            new Promise((resolve) => {
              const s = new WebSocket(url);
              s.onopen = () => resolve('open');
              s.onclose = (ev) => resolve(`closed ${ev.code}`);
            });
          const read = await fetch(`${target}/`, { credentials: 'include' }).then(
            (r) => `read ${r.status}`,
            () => 'unreadable',
          );
          return {
            api: await open(`${socket}/api`),
            serial: await open(`${socket}/console/serial/00000000-0000-4000-8000-000000000000`),
            read,
          };
        },
        { target: served.origin, socket: ws },
      );
      expect(received).toMatch(/^vmdesk_page=[\w-]{43}$/);
      expect(received).not.toContain(served.token);
      expect(outcome).toEqual({ api: 'closed 1006', serial: 'closed 1006', read: 'unreadable' });
      // A form POST (a top-level navigation, so the server's answer is seen): 405, nothing changes.
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url().startsWith(served.origin)),
        page.evaluate((target: string) => {
          const form = document.createElement('form');
          form.method = 'POST';
          form.action = `${target}/`;
          document.body.appendChild(form);
          form.submit();
        }, served.origin),
      ]);
      expect(response.status()).toBe(405);
      expect(JSON.parse(await ok(served.sb, ['list', '--json']))).toEqual([]);
      await context.close();
    } finally {
      foreign.close();
    }
  });

  it('answers 403 to a DNS name rebound to the loopback address', async () => {
    const rebinding = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP rebind.example 127.0.0.1'],
    });
    try {
      const page = await rebinding.newPage();
      const response = await page.goto(`http://rebind.example:${new URL(served.origin).port}/?token=${served.token}`);
      expect(response?.status()).toBe(403);
      expect(await page.context().cookies()).toEqual([]);
    } finally {
      await rebinding.close();
    }
  });
});
