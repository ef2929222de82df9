/**
 * The headers every response of `vmdesk serve` carries, and its few plain pages (errors, the
 * "not built" notice). The pages are static text: nothing from the request is echoed into them.
 */
import type { ServerResponse } from 'node:http';

/**
 * As strict as the renderer's own meta policy (src-renderer/index.html): only files of this origin,
 * no inline script, no eval. Inline styles are allowed: xterm.js writes <style> elements, and CSS cannot run
 * code. connect-src names the WebSocket origins too (ws: is not covered by 'self' in
 * every browser).
 */
export function contentSecurityPolicy(wsOrigins: readonly string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    // xterm.js's DOM renderer writes its <style> elements at run time (sized to the font); scripts stay strict.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self' ${wsOrigins.join(' ')}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function securityHeaders(wsOrigins: readonly string[]): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(wsOrigins),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

function page(title: string, text: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>VMDesk — ${title}</title></head>
<body><h1>${title}</h1><p>${text}</p></body></html>
`;
}

export const PAGES = {
  401: page('Not signed in', 'Open the URL printed by <code>vmdesk serve</code> (it carries the access token).'),
  403: page('Forbidden', 'This address or origin may not use this VMDesk server.'),
  404: page('Not found', 'There is nothing here.'),
  405: page('Method not allowed', 'Only GET and HEAD are served.'),
  503: page('The VMDesk UI is not built', 'Run <code>npm run build</code> in the VMDesk folder, then reload this page.'),
} as const;

export type PageStatus = keyof typeof PAGES;

const STATUS_TEXT: Record<PageStatus, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  503: 'Service Unavailable',
};

export function sendPage(res: ServerResponse, status: PageStatus, headers: Record<string, string>): void {
  const body = PAGES[status];
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    ...(status === 405 ? { Allow: 'GET, HEAD' } : {}),
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** An HTTP error on a socket whose upgrade to WebSocket is refused. */
export function upgradeRefusal(status: 400 | PageStatus): string {
  const text = status === 400 ? 'Bad Request' : STATUS_TEXT[status];
  const body = status === 400 ? 'Bad request\n' : PAGES[status];
  return (
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/html; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}
