/**
 * Electron's security checklist (https://www.electronjs.org/docs/latest/tutorial/security) on the
 * built main process, dist/electron/main.cjs, as packaged. The Electron binary cannot be installed on
 * this machine (it is downloaded from GitHub), so the bundle is loaded by Node's own loader with a
 * stand-in for the `electron` module that records every window it is asked for, every handler it is
 * given and every call it gets; the rest is the real thing (the built renderer and preload, a real
 * core on a throw-away library, the real console server). Where the binary exists,
 * e2e/electron.test.ts checks the same on the running app.
 */
import fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { electronStandIn, newStandInRecord, type StandInRecord } from '../src-main/electron/testing/electron-stand-in.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const MAIN = path.join(ROOT, 'dist', 'electron', 'main.cjs');
const INDEX = path.join(ROOT, 'dist', 'renderer', 'index.html');
const INDEX_URL = pathToFileURL(INDEX).href;
const MOCK_ID = path.join(os.tmpdir(), 'vmdesk-electron-stand-in.cjs');
/** Node's own CommonJS loader, not the test runner's: the bundle is loaded as Electron would load it. */
const require = createRequire(import.meta.url);

type Prefs = Record<string, unknown>;

/** Everything the main process asked of Electron (filled in when the bundle loads). */
let seen: StandInRecord;

async function until(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; !check();) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; dialogs: ${seen.dialogs.join('; ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const LOCKED_DOWN: Prefs = {
  preload: path.join(ROOT, 'dist', 'electron', 'preload.cjs'),
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  webviewTag: false,
};
/** Preferences that must never be set: each one widens what a page can do. */
const NEVER = ['nodeIntegrationInWorker', 'experimentalFeatures', 'enableBlinkFeatures', 'additionalArguments', 'partition', 'session'];
const UUID = '0f8e3c2a-1b2c-4d5e-8f90-123456789abc';

describe('Electron security checklist, on the built main process', () => {
  const dirs: string[] = [];
  const env = { home: process.env.VMDESK_HOME, runtime: process.env.VMDESK_RUNTIME_DIR };
  const main = (): StandInRecord['windows'][number]['webContents'] => seen.windows[0]!.webContents;

  beforeAll(async () => {
    for (const built of [MAIN, INDEX, path.join(ROOT, 'dist', 'electron', 'preload.cjs')])
      if (!fs.existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\``);
    const tmp = (prefix: string): string => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    };
    process.env.VMDESK_HOME = tmp('vmdesk-checklist-');
    process.env.VMDESK_RUNTIME_DIR = fs.mkdtempSync('/tmp/vmrt-');
    dirs.push(process.env.VMDESK_RUNTIME_DIR);
    seen = newStandInRecord(ROOT, tmp('vmdesk-userdata-'), true);
    const standIn = electronStandIn(seen);
    const loader = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
    const resolve = loader._resolveFilename;
    loader._resolveFilename = function (request: string, ...rest: unknown[]) {
      return request === 'electron' ? MOCK_ID : resolve.call(this, request, ...rest);
    };
    require.cache[MOCK_ID] = { id: MOCK_ID, filename: MOCK_ID, loaded: true, exports: standIn } as NodeJS.Module;
    try {
      require(MAIN);
    } finally {
      loader._resolveFilename = resolve;
    }
    seen.ready?.();
    await until(() => seen.windows.length === 1 && seen.handlers.size > 0 && seen.menu.length > 0, 'the main window');
  });

  afterAll(async () => {
    const app = (require.cache[MOCK_ID]?.exports as { app?: { quit(): void } } | undefined)?.app;
    app?.quit();
    await until(() => seen.exited, 'the quit').catch(() => undefined);
    delete require.cache[MOCK_ID];
    process.env.VMDESK_HOME = env.home;
    process.env.VMDESK_RUNTIME_DIR = env.runtime;
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('1, 18: loads only its own built renderer, from the app folder', () => {
    expect(seen.dialogs).toEqual([]);
    expect(seen.loads).toEqual([INDEX_URL]);
  });

  it('2, 3, 4, 6, 8, 9, 10, 12: every window gets the locked-down preferences; the app sandboxes every renderer', () => {
    // A console window too: it is the only other window the app ever opens.
    expect(main().openHandler?.({ url: `${INDEX_URL}#/console/${UUID}` })).toEqual({ action: 'deny' });
    expect(seen.windows.map((w) => w.opts.title)).toEqual(['VMDesk', 'VMDesk console']);
    for (const { opts } of seen.windows) {
      expect(opts.webPreferences).toMatchObject(LOCKED_DOWN);
      for (const key of NEVER) expect(opts.webPreferences, key).not.toHaveProperty(key);
    }
    expect(seen.loads.at(-1)).toBe(`${INDEX_URL}#/console/${UUID}`);
    expect(seen.sandboxBeforeReady).toBe(true);
  });

  it('5: denies every permission but sanitized clipboard writes, on request and on check', async () => {
    const ask = (permission: string): Promise<unknown> => new Promise((resolve) => seen.permission?.({}, permission, resolve, {}));
    for (const permission of [
      'media',
      'geolocation',
      'notifications',
      'midi',
      'midiSysex',
      'pointerLock',
      'fullscreen',
      'openExternal',
      'clipboard-read',
      'display-capture',
      'mediaKeySystem',
      'idle-detection',
      'hid',
      'serial',
      'usb',
      'window-management',
      'unknown',
    ]) {
      expect(await ask(permission), permission).toBe(false);
      expect(seen.permissionCheck?.({}, permission, INDEX_URL, {}), permission).toBe(false);
    }
    expect(await ask('clipboard-sanitized-write')).toBe(true);
  });

  it('7: sends its renderer a strict CSP header, on top of the built page’s meta policy', async () => {
    const answer = await new Promise<{ responseHeaders?: Record<string, string[]> }>((resolve) =>
      seen.headers?.({ resourceType: 'mainFrame', url: `${INDEX_URL}#/`, responseHeaders: {} }, resolve),
    );
    const csp = answer.responseHeaders?.['Content-Security-Policy']?.[0] ?? '';
    expect(csp).toMatch(/(^|; )script-src 'self'(;|$)/);
    expect(csp).toMatch(/connect-src 'self' ws:\/\/127\.0\.0\.1:\d+(;|$)/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(csp).not.toMatch(/unsafe-eval/);
    // Other responses are left alone (the header is the renderer's, not every file's).
    const other = await new Promise<object>((resolve) => seen.headers?.({ resourceType: 'mainFrame', url: 'file:///etc/hosts' }, resolve));
    expect(other).toEqual({});
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(fs.readFileSync(INDEX, 'utf8'))?.[1] ?? '';
    expect(meta).toMatch(/script-src 'self';/);
    expect(meta).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline/);
  });

  it('11, 12: attaches no webview, whatever asks', () => {
    let prevented = false;
    main().emit('will-attach-webview', { preventDefault: () => (prevented = true) }, {}, {});
    expect(prevented).toBe(true);
  });

  it('13: navigates nowhere but its own page, and follows no redirect', () => {
    const navigate = (url: string): boolean => {
      let prevented = false;
      main().emit('will-navigate', { preventDefault: () => (prevented = true) }, url);
      return prevented;
    };
    for (const url of [
      'https://example.com/',
      'http://127.0.0.1:8080/',
      'file:///etc/passwd',
      `${INDEX_URL}?x=1`,
      INDEX_URL.replace('index.html', 'other.html'),
      'javascript:alert(1)',
      'data:text/html,<script>1</script>',
      'about:blank',
      'vmdesk://x',
    ])
      expect(navigate(url), url).toBe(true);
    expect(navigate(`${INDEX_URL}#/console/${UUID}`)).toBe(false);
    let redirected = false;
    main().emit('will-redirect', { preventDefault: () => (redirected = true) }, 'https://example.com/');
    expect(redirected).toBe(true);
  });

  it('14, 15: opens no window but its console windows; the system browser gets https links only, after the user agrees', async () => {
    const windows = seen.windows.length;
    for (const url of [
      'http://example.com/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/html,x',
      'smb://host/share',
      'mailto:a@example.com',
      'ms-msdt:/id',
      'vnc://127.0.0.1',
      'about:blank',
      'https://user:pass@example.com/',
      `${INDEX_URL}#/settings`,
    ]) {
      expect(main().openHandler?.({ url }), url).toEqual({ action: 'deny' });
    }
    expect(seen.windows).toHaveLength(windows);
    expect(seen.dialogs).toEqual([]);
    seen.dialogAnswers.push(1, 0); // Cancel, then Open in Browser
    main().openHandler?.({ url: 'https://www.qemu.org/docs/' });
    await until(() => seen.dialogs.length === 1, 'the question');
    expect(seen.openExternal).toEqual([]);
    main().openHandler?.({ url: 'https://www.qemu.org/docs/' });
    await until(() => seen.openExternal.length === 1, 'openExternal');
    expect(seen.dialogDetails).toEqual(['https://www.qemu.org/docs/', 'https://www.qemu.org/docs/']);
    expect(seen.openExternal).toEqual(['https://www.qemu.org/docs/']);
  });

  it('17: answers IPC on one channel, from the top frame of its own page only', async () => {
    expect([...seen.handlers.keys()]).toEqual(['vmdesk:call']);
    expect(seen.ipcOn).toEqual([]);
    const call = (senderFrame: unknown): Promise<unknown> =>
      seen.handlers.get('vmdesk:call')?.({ senderFrame }, 'listMachines', []) as Promise<unknown>;
    expect(await call({ url: `${INDEX_URL}#/`, parent: null })).toEqual({ result: [] });
    const refused = { error: { code: 'INVALID_STATE', message: 'Only the VMDesk window may call the VMDesk API' } };
    for (const frame of [
      { url: INDEX_URL, parent: {} },
      { url: 'https://evil.example/', parent: null },
      { url: 'file:///tmp/index.html', parent: null },
      { url: `${INDEX_URL}?x=1`, parent: null },
      { url: 'about:blank', parent: null },
      null,
    ])
      expect(await call(frame), JSON.stringify(frame)).toEqual(refused);
  });

  it('has no developer tools or reload in the packaged app’s menu', () => {
    const roles = seen.menu.flatMap((s) => s.submenu.map((i) => i.role)).filter(Boolean);
    expect(roles).not.toContain('toggleDevTools');
    expect(roles).not.toContain('reload');
    expect(roles).not.toContain('forceReload');
  });
});
