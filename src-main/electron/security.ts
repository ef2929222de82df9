/**
 * The security decisions of the desktop host, as pure functions (no electron import, unit-tested):
 * which frames may call the API, where a window may go, which permissions a page gets.
 */
import { pathToFileURL } from 'node:url';

/**
 * The renderer's Content-Security-Policy, sent as a response header on top of the meta tag of
 * src-renderer/index.html. Both apply (a resource must pass each), so the header only narrows the
 * meta policy: connections go to the app's own loopback server alone (the meta tag allows any ws:,
 * which `vmdesk serve` needs), and no page may frame the renderer.
 */
export function rendererCsp(streamServer: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    // xterm.js's DOM renderer writes its <style> elements at run time (sized to the font); scripts stay strict.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    `connect-src 'self' ${streamServer}`,
    "font-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * The Origin header Electron's Chromium sends on WebSocket handshakes from a page loaded with
 * `loadFile`: `file://` (not the `null` of an opaque origin). Only that one is let through besides
 * the server's own http origins; the console streams also demand the token, which only our
 * renderer gets (through the API).
 */
export const FILE_PAGE_ORIGINS: readonly string[] = ['file://'];

/** Permissions a page of ours may get; everything else (camera, geolocation, notifications…) is denied. */
const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-sanitized-write']);

export function isPermissionAllowed(permission: string): boolean {
  return ALLOWED_PERMISSIONS.has(permission);
}

export function rendererIndexUrl(indexHtmlPath: string): string {
  return pathToFileURL(indexHtmlPath).href;
}

function parseUrl(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/** Is `url` our renderer's index.html (any hash: the router lives there)? */
export function isRendererUrl(url: string, indexUrl: string): boolean {
  const target = parseUrl(url);
  const index = parseUrl(indexUrl);
  if (!target || !index) return false;
  return target.protocol === 'file:' && target.host === index.host && target.pathname === index.pathname && target.search === '';
}

/**
 * May this frame call the API? Only the top frame of a window of ours showing our renderer: not an
 * iframe, not a page the window was navigated to.
 */
export function isTrustedSender(frame: { url: string; isTopFrame: boolean } | null, indexUrl: string): boolean {
  return frame !== null && frame.isTopFrame && isRendererUrl(frame.url, indexUrl);
}

/** `#/console/<uuid>` (this computer's machine) or `#/console/<host>/<uuid>` (a remote host's). */
const CONSOLE_ROUTE =
  /^#\/console\/(?:([A-Za-z0-9][A-Za-z0-9._-]{0,62})\/)?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:[/?][\w/?=&.-]*)?$/i;

export type NavigationTarget =
  /** One of our console windows: the same renderer, routed to `hash`. */
  | { kind: 'console'; uuid: string; host?: string; hash: string }
  /** An https page: the system browser may open it, once the user agrees. */
  | { kind: 'external'; url: string }
  | { kind: 'deny' };

/** What a window.open / link / navigation to `url` from our renderer may turn into. */
export function classifyNavigation(url: string, indexUrl: string): NavigationTarget {
  const target = parseUrl(url);
  if (!target) return { kind: 'deny' };
  if (isRendererUrl(url, indexUrl)) {
    const match = CONSOLE_ROUTE.exec(target.hash);
    if (!match?.[2]) return { kind: 'deny' };
    return { kind: 'console', uuid: match[2].toLowerCase(), ...(match[1] ? { host: match[1] } : {}), hash: target.hash.slice(1) };
  }
  if (target.protocol === 'https:' && target.username === '' && target.password === '') {
    return { kind: 'external', url: target.href };
  }
  return { kind: 'deny' };
}
