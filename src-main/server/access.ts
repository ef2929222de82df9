/**
 * Who may talk to `vmdesk serve`: the Host header (against DNS rebinding), on WebSocket upgrades the
 * Origin (against cross-site pages), and two secrets. The token (a `token` query parameter) opens
 * everything; the page key, in a cookie, opens the pages and nothing else.
 *
 * Why two: a browser sends a cookie of 127.0.0.1 to every port of 127.0.0.1 (cookies ignore ports,
 * and HttpOnly, SameSite and Secure cannot change that on plain http), so a guest's web server
 * behind a port forward, visited in the same browser, receives the cookie. The page key it gets
 * serves it the public UI files; the token, which the page keeps in its own origin's storage
 * (per port), never leaves in a cookie. One decision function for HTTP and WebSocket alike.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import type { IncomingMessage } from 'node:http';

export const PAGE_COOKIE = 'vmdesk_page';

export function newToken(): string {
  return crypto.randomBytes(32).toString('base64url');
}

/** Constant-time comparison: both sides are hashed first, so their lengths never leak either. */
export function tokenMatches(expected: string, given: string): boolean {
  const a = crypto.createHash('sha256').update(expected).digest();
  const b = crypto.createHash('sha256').update(given).digest();
  return crypto.timingSafeEqual(a, b);
}

/** `host:port` as it appears in a Host header or a URL (IPv6 literals in brackets). */
export function hostWithPort(host: string, port: number): string {
  return `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function pageCookie(pageKey: string): string {
  return `${PAGE_COOKIE}=${pageKey}; HttpOnly; SameSite=Strict; Path=/`;
}

export interface AccessPolicy {
  token: string;
  /** The cookie's secret: it serves pages, never a WebSocket. */
  pageKey: string;
  /** Accepted Host header values (`host:port`, lower case). */
  hosts: Set<string>;
  /** Accepted Origin header values (exact). */
  origins: Set<string>;
}

export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

/** Addresses of this host's interfaces: what a Host header may name when the server listens on all of them. */
function interfaceAddresses(): string[] {
  return Object.values(os.networkInterfaces()).flatMap((list) =>
    (list ?? []).filter((a) => !(a.family === 'IPv6' && a.scopeid)).map((a) => a.address),
  );
}

/**
 * The names a browser may use for this server: loopback always, the listen address, and, on a
 * wildcard address, every interface address. Anything else in a Host header is a rebound DNS name.
 */
export function accessPolicy(
  secrets: { token: string; pageKey: string },
  host: string,
  port: number,
  allowedOrigins: readonly string[] = [],
): AccessPolicy {
  const names = ['127.0.0.1', 'localhost', '::1', host, ...(isWildcard(host) ? interfaceAddresses() : [])];
  const hosts = new Set(names.map((h) => hostWithPort(h, port).toLowerCase()));
  // A browser leaves the default port out of the Host header.
  if (port === 80) for (const h of names) hosts.add((net.isIPv6(h) ? `[${h}]` : h).toLowerCase());
  const origins = new Set([...[...hosts].map((h) => `http://${h}`), ...allowedOrigins]);
  return { ...secrets, hosts, origins };
}

export type AccessDecision =
  | { ok: true; host: string; tokenFromQuery: boolean }
  | { ok: false; status: 401 | 403; reason: 'no-token' | 'bad-token' | 'bad-host' | 'bad-origin' };

/**
 * Check one request (plain HTTP, or a WebSocket upgrade when `upgrade` is true).
 *
 * A WebSocket is not bound by the same-origin policy, so the Origin is what stops cross-site
 * WebSocket hijacking; a client that is no browser sends none, and must hold the token itself.
 * Only the token opens a WebSocket: the page-key cookie, which the browser also sends to every other
 * port of 127.0.0.1, never does.
 */
export function checkAccess(policy: AccessPolicy, req: IncomingMessage, url: URL, upgrade: boolean): AccessDecision {
  const host = (req.headers.host ?? '').toLowerCase();
  if (!policy.hosts.has(host)) return { ok: false, status: 403, reason: 'bad-host' };
  const origin = req.headers.origin;
  if (upgrade && origin !== undefined && !policy.origins.has(origin)) return { ok: false, status: 403, reason: 'bad-origin' };
  const fromQuery = url.searchParams.get('token');
  if (fromQuery !== null) {
    if (fromQuery === '') return { ok: false, status: 401, reason: 'no-token' };
    if (!tokenMatches(policy.token, fromQuery)) return { ok: false, status: 401, reason: 'bad-token' };
    return { ok: true, host, tokenFromQuery: true };
  }
  const pageKey = upgrade ? undefined : readCookie(req.headers.cookie, PAGE_COOKIE);
  if (pageKey === undefined || pageKey === '') return { ok: false, status: 401, reason: 'no-token' };
  if (!tokenMatches(policy.pageKey, pageKey)) return { ok: false, status: 401, reason: 'bad-token' };
  return { ok: true, host, tokenFromQuery: false };
}
