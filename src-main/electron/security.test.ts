import { describe, expect, it } from 'vitest';
import {
  FILE_PAGE_ORIGINS,
  classifyNavigation,
  isPermissionAllowed,
  isRendererUrl,
  isTrustedSender,
  rendererCsp,
  rendererIndexUrl,
} from './security.js';

const indexUrl = rendererIndexUrl('/opt/VMDesk/resources/app.asar/dist/renderer/index.html');
const uuid = '0f8e3c2a-1b2c-4d5e-8f90-123456789abc';

describe('isTrustedSender', () => {
  it('trusts only the top frame showing our index.html', () => {
    expect(isTrustedSender({ url: indexUrl, isTopFrame: true }, indexUrl)).toBe(true);
    expect(isTrustedSender({ url: `${indexUrl}#/console/${uuid}`, isTopFrame: true }, indexUrl)).toBe(true);
    expect(isTrustedSender({ url: indexUrl, isTopFrame: false }, indexUrl)).toBe(false);
    expect(isTrustedSender(null, indexUrl)).toBe(false);
  });

  it('refuses other pages, other files, query strings and garbage', () => {
    for (const url of [
      'https://example.com/',
      'http://127.0.0.1:8080/',
      'file:///tmp/index.html',
      'file:///opt/VMDesk/resources/app.asar/dist/renderer/other.html',
      `${indexUrl}?x=1`,
      'file://evil.example/opt/VMDesk/resources/app.asar/dist/renderer/index.html',
      'data:text/html,hi',
      'about:blank',
      'not a url',
      '',
    ]) {
      expect(isTrustedSender({ url, isTopFrame: true }, indexUrl), url).toBe(false);
    }
  });

  it('compares paths exactly, whatever the encoding of the index path', () => {
    const spaced = rendererIndexUrl('/home/me/My Apps/VMDesk/dist/renderer/index.html');
    expect(spaced).toContain('%20');
    expect(isRendererUrl(`${spaced}#/`, spaced)).toBe(true);
    expect(isRendererUrl(spaced.replace('My%20Apps', 'My%20Appz'), spaced)).toBe(false);
  });
});

describe('classifyNavigation', () => {
  it('turns a console route of our renderer into a console window', () => {
    expect(classifyNavigation(`${indexUrl}#/console/${uuid}`, indexUrl)).toEqual({ kind: 'console', uuid, hash: `/console/${uuid}` });
    expect(classifyNavigation(`${indexUrl}#/console/${uuid.toUpperCase()}`, indexUrl)).toMatchObject({ kind: 'console', uuid });
    expect(classifyNavigation(`${indexUrl}#/console/lab/${uuid}`, indexUrl)).toEqual({
      kind: 'console',
      uuid,
      host: 'lab',
      hash: `/console/lab/${uuid}`,
    });
  });

  it('denies other routes of the renderer and malformed console routes', () => {
    for (const hash of [
      '',
      '#/',
      '#/console/',
      '#/console/not-a-uuid',
      `#/console/${uuid}<script>`,
      `#/settings/${uuid}`,
      `#/console/-oProxyCommand=x/${uuid}`,
      `#/console/../${uuid}`,
      `#/console/a/b/${uuid}`,
    ]) {
      expect(classifyNavigation(`${indexUrl}${hash}`, indexUrl), hash).toEqual({ kind: 'deny' });
    }
  });

  it('offers https pages to the system browser, and nothing else', () => {
    expect(classifyNavigation('https://www.qemu.org/docs/', indexUrl)).toEqual({ kind: 'external', url: 'https://www.qemu.org/docs/' });
    for (const url of [
      'http://example.com/',
      'https://user:pass@example.com/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/html,x',
      'smb://host/share',
      'vmdesk://x',
      'nonsense',
    ]) {
      expect(classifyNavigation(url, indexUrl), url).toEqual({ kind: 'deny' });
    }
  });
});

describe('permissions', () => {
  it('grants only sanitized clipboard writes', () => {
    expect(isPermissionAllowed('clipboard-sanitized-write')).toBe(true);
    for (const p of [
      'media',
      'geolocation',
      'notifications',
      'clipboard-read',
      'openExternal',
      'fullscreen',
      'hid',
      'usb',
      'serial',
      'display-capture',
      '',
    ]) {
      expect(isPermissionAllowed(p), p).toBe(false);
    }
  });
});

describe('rendererCsp', () => {
  const csp = rendererCsp('ws://127.0.0.1:41234');
  const directives = new Map(
    csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([name, ...values]) => [name, values]),
  );

  it('allows scripts from the app only: no inline, no eval', () => {
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(csp).not.toContain('unsafe-eval');
    // Only styles may be inline (xterm.js writes <style> elements).
    expect([...directives].filter(([, v]) => v?.includes("'unsafe-inline'")).map(([k]) => k)).toEqual(['style-src']);
  });

  it('connects to the app and its own stream server only, and cannot be framed', () => {
    expect(directives.get('connect-src')).toEqual(["'self'", 'ws://127.0.0.1:41234']);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'none'"]);
    expect(directives.get('form-action')).toEqual(["'none'"]);
  });

  it('lets through the WebSocket Origin of a file:// page and no opaque origin', () => {
    expect(FILE_PAGE_ORIGINS).toEqual(['file://']);
  });
});
